// The RFC 6193 offer/answer rules of TS-1017 §4.1.2, as pure functions over
// SDP text: what an IKE endpoint's SDP says (IkeMedia), whether an offer is
// acceptable to this endpoint and on what terms, whether an answer fits our
// offer, and the SDP we send. Every refusal is an SdpReject with the clause
// it comes from; the SIP layer answers an unacceptable offer with 488.
// The parsing is libosip2's (sdp_message_parse); the rules are ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/fingerprint.h"

namespace mapgw::sip {

// a=ike-setup (RFC 6193 §4): active = the IKE initiator (the VPN client),
// passive = the responder (the VPN server); actpass only in an offer.
enum class IkeSetup { kActive, kPassive, kActPass };
// TS-1017 §3.4: EAP-MD5 user/password against the server's self-signed
// certificate (a=fingerprint), or a pre-shared key (a=psk-fingerprint).
enum class IkeAuth { kPassword, kPsk };
// TS-1017 §3.1: the client joins the server's network space.
enum class VpnRole { kClient, kServer };

const char* to_string(IkeSetup);
const char* to_string(IkeAuth);
const char* to_string(VpnRole);

// One side's IKE endpoint as its SDP describes it.
struct IkeMedia {
  std::string address;  // c= (media level over session level), no brackets
  bool ipv6 = true;
  uint16_t port = 4500;  // m= port: IKE and UDP-encapsulated ESP (§4.1.2.2)
  IkeSetup setup = IkeSetup::kActive;
  std::optional<uint32_t> bandwidth_kbps;    // b=AS: (§4.1.2.3, outer layer 3)
  std::optional<Fingerprint> cert_fingerprint;  // a=fingerprint
  std::optional<Fingerprint> psk_fingerprint;   // a=psk-fingerprint
};

// Why an SDP is refused. The numbers are stable (metric labels).
enum class SdpReject {
  kNone = 0,
  kUnparsable,         // not SDP libosip2 can parse
  kMediaCount,         // TS-1017 §4.1.2: exactly one m= line, else 488 even if one fits
  kIkeEsp,             // TS-1017 §4.1.2.1: ike-esp (bare ESP) is not used
  kNotIke,             // RFC 6193 §3: m=application <port> udp ike-esp-udpencap
  kNoConnection,       // RFC 4566 §5.7: no usable c= line
  kBadPort,            // TS-1017 §4.1.2.2: port 1..65535 (0: media refused, RFC 3264 §6)
  kBadSetup,           // TS-1017 §4.1.2.4: a=ike-setup active or passive (actpass in offers)
  kBadFingerprint,     // RFC 4572 §5: malformed a=fingerprint / a=psk-fingerprint
  kBothAuth,           // TS-1017 §3.4: one auth method per call, not both fingerprints
  kRoleUnsupported,    // TS-1017 §4.1.2.4: client-only offered active, server-only passive
  kPasswordUnsupported,  // TS-1017 §4.1.2.5: PSK-only endpoint offered a=fingerprint
  kPskUnsupported,     // TS-1017 §4.1.2.6: password-only endpoint offered a=psk-fingerprint
  kNoServerCertificate,  // TS-1017 §4.1.2.5: password mode, the server gave no a=fingerprint
  kUnknownPsk,         // TS-1017 §3.4.2: the offer names none of our PSKs
  kSetupMismatch,      // RFC 6193 §4: the answer must take the other role
  kAuthMismatch,       // the answer uses another auth method than the offer
};
inline constexpr int kSdpRejectCount = static_cast<int>(SdpReject::kAuthMismatch) + 1;
const char* to_string(SdpReject);  // stable label: "media_count", ...
const char* clause(SdpReject);     // "TS-1017 §4.1.2", ...

// What this endpoint can do (TS-1017 Appendix I, tables I-C-1/2, I-S-1/2).
struct IkeCapabilities {
  bool client = true;
  bool server = false;
  bool password = true;
  bool psk = false;
  // PSKs a server accepts, by fingerprint; empty: any (one PSK configured).
  std::vector<Fingerprint> known_psks;
};

// The outcome of a successful offer/answer: the far IKE endpoint and the
// terms, handed to whoever asked for the call.
struct IkePeer {
  std::string address;
  bool ipv6 = true;
  uint16_t port = 4500;
  VpnRole local_role = VpnRole::kClient;  // client: we initiate IKE
  IkeAuth auth = IkeAuth::kPassword;
  std::optional<uint32_t> bandwidth_kbps;
  std::optional<Fingerprint> server_cert;  // password mode: the fingerprint to verify
  std::optional<Fingerprint> peer_psk;     // PSK mode: the PSK the peer named
};

template <typename T>
struct SdpOutcome {
  SdpReject reject = SdpReject::kNone;
  std::string detail;  // what exactly, for logs
  T value{};
  bool ok() const { return reject == SdpReject::kNone; }
};

// Structure only: one media description, its kind, address, port, setup,
// fingerprints.
SdpOutcome<IkeMedia> parse_ike_sdp(std::string_view sdp);

// We answer an offer: the capability rules, then the terms.
SdpOutcome<IkePeer> accept_offer(const IkeCapabilities& caps, std::string_view offer_sdp);

// Our offer was answered: the answer must take the other role and the same
// auth method.
SdpOutcome<IkePeer> accept_answer(const IkeMedia& our_offer, std::string_view answer_sdp);

// The SDP text for our side (CRLF line ends). @session_id and @version go
// into o= (RFC 4566 §5.2: the version grows with every new description).
std::string build_ike_sdp(const IkeMedia& self, uint64_t session_id, uint64_t version);

}  // namespace mapgw::sip
