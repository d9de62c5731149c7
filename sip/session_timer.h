// RFC 4028 session timers as pure decisions: what a UAS answers to an
// INVITE's Session-Expires/Min-SE/Supported, what a UAC concludes from the
// 2xx, and when the refresher refreshes and the other side gives up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "sip/ua_config.h"

namespace mapgw::sip {

// What a request or response says about the timer.
struct SessionTimerHeaders {
  std::optional<uint32_t> session_expires;  // Session-Expires (compact "x")
  std::optional<Refresher> refresher;       // its refresher parameter
  std::optional<uint32_t> min_se;           // Min-SE
  bool supported_timer = false;             // Supported: timer (compact "k")
  bool require_timer = false;               // Require: timer
};

// Parses "300;refresher=uas". nullopt when the value is not a number.
std::optional<std::pair<uint32_t, std::optional<Refresher>>> parse_session_expires(
    const std::string& value);

struct SessionTimerTerms {
  uint32_t interval = 0;  // 0: no session timer
  bool we_refresh = false;
  // The next refresh we send (refresher) or the last moment one may
  // arrive before we end the session (the other side).
  std::chrono::seconds deadline() const;
};

struct UasTimerDecision {
  int reject = 0;        // 422 when the interval is below our Min-SE
  uint32_t min_se = 0;   // for the 422's Min-SE header
  SessionTimerTerms terms;
  std::string session_expires_header;  // for the 2xx; empty: none
  bool require_timer = false;          // Require: timer in the 2xx (the UAC supports it)
};

// RFC 4028 §9: the UAS answers an INVITE or a refresh.
UasTimerDecision uas_session_timer(const SessionTimerConfig& cfg, const SessionTimerHeaders& req);

// RFC 4028 §7.2: the UAC reads the 2xx to its INVITE or refresh.
// @requested is the interval we asked for.
SessionTimerTerms uac_session_timer(const SessionTimerConfig& cfg, uint32_t requested,
                                    const SessionTimerHeaders& resp);

const char* to_string(Refresher r);

}  // namespace mapgw::sip
