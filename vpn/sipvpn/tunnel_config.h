// What charon is told for one SIP-VPN call (TS-1017 §3.3.3–3.4, §4.1.3),
// as pure functions from the settled IKE terms to VICI messages: the
// connection (our SDP port and the peer's, UDP encapsulation forced, tunnel
// mode, IKEv2, the proposals), its secret, the server's address pools.
// Table-tested; the SIP-VPN service sends them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sip/sdp_ike.h"
#include "vpn/vici/message.h"

namespace mapgw::vpn {

struct SipVpnSettings {
  // IKE: PFS off on CHILD_SA rekeys (TS-1017 §4.3); a server also accepts
  // PFS on (the same proposals with a group, after those without).
  std::vector<std::string> ike_proposals = {"aes256-sha256-modp2048", "aes128-sha256-modp2048",
                                            "aes128-sha256-curve25519"};
  std::vector<std::string> esp_proposals = {"aes256-sha256", "aes128-sha256"};
  std::chrono::seconds ike_rekey{14400};
  std::chrono::seconds child_rekey{3600};
  std::chrono::seconds dpd{30};
  // The server's network space (TS-1017 §4.1.3.2).
  std::vector<std::string> pool4, pool6;     // address ranges or CIDRs
  std::vector<std::string> dns4, dns6;
  std::vector<std::string> subnets;          // local_ts, handed out as INTERNAL_IP*_SUBNET
  // What a client asks for inside the tunnel (TS-1017 Appendix I, I-C-3):
  // a virtual address and traffic of each family.
  bool inner_ipv4 = true, inner_ipv6 = false;
  // Whether the peer's IKE identity must be its SIP identity (user@host);
  // false: any identity (one PSK in use at a time).
  bool match_peer_identity = true;
};

struct CallTunnel {
  std::string name;           // "sipvpn-<call>": connection, child and secret names
  std::string local_address;  // our SDP c=
  uint16_t local_port = 4500; // our SDP m= port
  sip::IkePeer peer;          // the far end and the terms
  std::string local_id;       // our IKE identity (our SIP identity, user@host)
  std::string remote_id;      // the peer's (from P-Asserted-Identity or the target)
  std::string psk;            // PSK mode: the key the fingerprints named
  // Password mode: the server presents cert_pem; the client authenticates
  // as eap_user and accepts only pinned_cert (the certificate whose SHA-1
  // the SDP named) — or, on its first try, only certificates chaining to
  // decoy_ca, so that the try fails and charon shows what it received.
  std::string cert_pem, eap_user, pinned_cert, decoy_ca;
  bool inner_ipv4 = true, inner_ipv6 = false;  // what a client asks for
};

// "sip:0311111111@example.ne.jp;user=phone" -> "0311111111@example.ne.jp";
// "tel:0311111111;phone-context=example.ne.jp" -> "0311111111@example.ne.jp".
// Empty when neither form.
std::string ike_identity(const std::string& uri);

vici::Message load_conn_message(const SipVpnSettings& s, const CallTunnel& t);
vici::Message load_psk_message(const SipVpnSettings& s, const CallTunnel& t);
vici::Message unload_conn_message(const CallTunnel& t);
// The server's pools (load-pool), named "<prefix>-v4" / "-v6".
std::vector<vici::Message> load_pool_messages(const SipVpnSettings& s, const std::string& prefix);
std::vector<std::string> pool_names(const SipVpnSettings& s, const std::string& prefix);

}  // namespace mapgw::vpn
