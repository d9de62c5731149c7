// What the SIP user agent is told: who it is, where the NGN's proxy and
// registrar are, how calls and session timers behave, and the IKE endpoint
// its SDP describes. Filled from the daemon's [sip] TOML section
// (agent/config/sip_section.cc) or by tests; documented defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sip/endpoint.h"
#include "sip/sdp_ike.h"

namespace mapgw::sip {

enum class Refresher { kUac, kUas };

struct SessionTimerConfig {
  uint32_t session_expires = 300;  // TS-1017 Appendix II; RFC 4028 §4 recommends 1800
  uint32_t min_se = 90;            // RFC 4028 §5: never below 90
  Refresher refresher = Refresher::kUas;  // what we ask for / choose (TS-1017 II.1.1 F5)
};

// Our IKE endpoint as the SDP announces it.
struct LocalIkeConfig {
  std::string address;  // numeric; empty: the SIP address of the call's family
  uint16_t port = 4500;
  IkeCapabilities caps;
  std::optional<Fingerprint> cert_fingerprint;  // a server's, for password mode
  std::optional<Fingerprint> psk_fingerprint;   // ours, for PSK mode
  std::optional<uint32_t> bandwidth_kbps;
};

struct UaConfig {
  std::string aor;         // our address of record: "sip:0311111111@example.ne.jp"
  std::string display_name;
  std::string auth_user;   // digest user; empty: the AOR's user part
  std::string password;
  std::string registrar;   // REGISTER Request-URI ("sip:example.ne.jp"); empty: no registration
  std::optional<Endpoint> outbound_proxy;  // next hop of every request outside a dialog
  std::optional<Endpoint> local_v6, local_v4;  // our SIP sockets (port 0: any, for tests)
  uint32_t register_expires = 3600;
  std::chrono::seconds register_retry_min{30};    // back-off after a failure, doubling
  std::chrono::seconds register_retry_max{1800};
  SessionTimerConfig timers;
  // A UAS rings (180) this long before it answers; 0: answers at once.
  std::chrono::milliseconds answer_delay{0};
  uint32_t max_calls = 16;           // concurrent dialogs; more get 486 (in) or an error (out)
  uint32_t max_requests_per_second = 100;  // per source address; more are dropped
  std::string user_agent = "mapgw";
  LocalIkeConfig ike;
};

}  // namespace mapgw::sip
