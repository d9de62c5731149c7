// What every part of the user agent shares: the stack, the configuration,
// the counters, our identity as it goes into headers, and the next hop of
// requests outside a dialog.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "sip/sip_stack.h"
#include "sip/ua_config.h"

namespace mapgw::sip {

// The methods we serve (Allow in INVITEs, 2xx, 405s and OPTIONS answers).
inline constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS";

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Why a request was not served; stable metric labels.
enum class RequestDrop {
  kRateLimited,      // the source sent more than max_requests_per_second
  kTooManyCalls,     // 486 Busy Here: max_calls dialogs already
  kUnknownMethod,    // 501 Not Implemented / 405 Method Not Allowed
  kNoDialog,         // 481: in-dialog request for a dialog we do not have
  kBadRequest,       // 400: unusable body, URI or headers
  kCseqOrder,        // 500: CSeq lower than the dialog's last (RFC 3261 §12.2.2)
  kUnsupported,      // 420: Require names an extension we lack
  kCount
};
const char* to_string(RequestDrop);

struct UaCounters {
  uint64_t registrations_ok = 0;
  uint64_t registrations_failed = 0;  // final errors and timeouts
  uint64_t auth_failures = 0;         // challenges our credentials did not satisfy
  uint64_t calls_started[2] = {0, 0};   // [0] outgoing, [1] incoming
  std::map<std::string, uint64_t> call_results;  // "answered", "rejected_486", "cancelled", ...
  uint64_t sdp_rejects[kSdpRejectCount] = {};
  uint64_t request_drops[static_cast<int>(RequestDrop::kCount)] = {};
  uint64_t session_refreshes_sent = 0;
  uint64_t session_refreshes_received = 0;
  uint64_t sessions_expired = 0;
  uint64_t forked_answers_released = 0;  // extra 2xx of a forked INVITE, ACKed and BYEd
};

struct UaCore {
  SipStack& stack;
  DatagramSink& sink;
  const UaConfig& cfg;
  UaCounters& counters;
  // The time of the event being handled (injected: tests drive it).
  TimePoint now{};

  // Our local endpoint towards @peer's family.
  Endpoint local_for(const Endpoint& peer) const { return sink.local_for(peer); }
  // <sip:user@[addr]:port>: where the peer reaches us.
  std::string contact_for(const Endpoint& peer) const;
  std::string from_header(const std::string& tag) const;  // our AOR with a tag
  std::string aor_user() const;
  std::string auth_user() const { return cfg.auth_user.empty() ? aor_user() : cfg.auth_user; }
  // Where requests outside a dialog go: the outbound proxy, else the host
  // of @request_uri (numeric or resolvable).
  Result<Endpoint> first_hop(const std::string& request_uri) const;
  // The Route set of requests outside a dialog: the proxy, loose-routed.
  std::vector<std::string> initial_routes() const;
};

}  // namespace mapgw::sip
