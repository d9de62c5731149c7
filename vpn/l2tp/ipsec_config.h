// What charon is told for the L2TP/IPsec server (DESIGN.md "IKEv1
// proposals"), as pure functions to VICI messages: an IKEv1 connection
// that any client with the PSK may use and, when certificates are
// configured, one for clients whose certificate chains to our CA (IKEv1
// Main Mode picks the connection by the authentication method the client
// proposes, so both serve side by side); each CHILD_SA protects only
// UDP/1701 on our side (`dynamic[udp/l2tp]`), no PFS, DPD; transport mode
// where the kernel has ESP (what the Windows, macOS/iOS and Android
// clients propose), tunnel mode host-to-host with the same selectors on
// kernels without it (charon's libipsec, our ESP-less test host).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "vpn/vici/message.h"

namespace mapgw::l2tp {

struct IpsecSettings {
  std::string psk;
  // Certificates (RSA or ECDSA signatures): ours and its key, the CAs a
  // client's certificate must chain to, and their revocation list.
  std::string cert_pem, key_pem, crl_pem;
  std::vector<std::string> ca_pems;
  // What the OS clients send: Windows AES-256/SHA-1/modp1024 (and 3DES),
  // Android modp1024, macOS/iOS SHA-2 with modp2048.
  std::vector<std::string> ike_proposals = {"aes256-sha256-modp2048", "aes128-sha256-modp2048",
                                            "aes256-sha1-modp2048",   "aes128-sha1-modp2048",
                                            "aes256-sha1-modp1024",   "aes128-sha1-modp1024",
                                            "3des-sha1-modp1024"};
  std::vector<std::string> esp_proposals = {"aes256gcm16", "aes128gcm16", "aes256-sha256", "aes128-sha256",
                                            "aes256-sha1", "aes128-sha1",  "3des-sha1"};
  std::chrono::seconds dpd{30};
  std::vector<std::string> local_addrs;  // the addresses L2TP listens on
  uint16_t l2tp_port = 1701;
  bool transport = true;  // false: tunnel mode host-to-host (libipsec)
  // Transport mode: each CHILD_SA marks what it decrypts and takes only
  // what carries its mark, so clients behind one NAT address (identical
  // selectors) each get their own SA (endpoint.h).
  bool sa_marks = false;

  bool psk_auth() const { return !psk.empty(); }
  bool cert_auth() const { return !cert_pem.empty(); }
  bool enabled() const { return psk_auth() || cert_auth(); }
  bool same_credentials(const IpsecSettings& o) const {
    return psk == o.psk && cert_pem == o.cert_pem && key_pem == o.key_pem && crl_pem == o.crl_pem &&
           ca_pems == o.ca_pems;
  }
};

inline constexpr const char* kConnName = "l2tp-ipsec";           // PSK
inline constexpr const char* kCertConnName = "l2tp-ipsec-cert";  // certificates

bool is_l2tp_conn(const std::string& name);
// "psk" or "certificate" for one of our connections' names.
const char* conn_auth(const std::string& name);

// load-conn messages, one per authentication method configured.
std::vector<vici::Message> l2tp_conn_messages(const IpsecSettings& s);
// The credentials, each a (command, message) pair: load-shared for the
// PSK, load-key for our key, load-cert for each CA and the CRL.
std::vector<std::pair<std::string, vici::Message>> l2tp_credential_messages(const IpsecSettings& s);

}  // namespace mapgw::l2tp
