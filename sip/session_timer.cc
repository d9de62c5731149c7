#include "sip/session_timer.h"

#include <strings.h>

#include <algorithm>
#include <charconv>

namespace mapgw::sip {

const char* to_string(Refresher r) { return r == Refresher::kUac ? "uac" : "uas"; }

std::optional<std::pair<uint32_t, std::optional<Refresher>>> parse_session_expires(
    const std::string& value) {
  size_t i = 0;
  while (i < value.size() && value[i] == ' ') ++i;
  uint32_t v = 0;
  const char* b = value.data() + i;
  const char* e = value.data() + value.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p == b) return std::nullopt;
  std::optional<Refresher> who;
  std::string rest(p, e);
  for (char& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (rest.find("refresher=uac") != std::string::npos) who = Refresher::kUac;
  if (rest.find("refresher=uas") != std::string::npos) who = Refresher::kUas;
  return std::make_pair(v, who);
}

std::chrono::seconds SessionTimerTerms::deadline() const {
  if (interval == 0) return std::chrono::seconds(0);
  // §10: the refresher at half the interval; the other side ends the
  // session when no refresh came by interval - min(32, interval/3).
  if (we_refresh) return std::chrono::seconds(interval / 2);
  return std::chrono::seconds(interval - std::min<uint32_t>(32, interval / 3));
}

UasTimerDecision uas_session_timer(const SessionTimerConfig& cfg, const SessionTimerHeaders& req) {
  UasTimerDecision d;
  const uint32_t our_min = std::max<uint32_t>(cfg.min_se, 90);
  if (req.session_expires && *req.session_expires < our_min) {
    d.reject = 422;  // §8.1
    d.min_se = our_min;
    return d;
  }
  uint32_t interval = cfg.session_expires;
  if (req.session_expires) {
    // §9: the UAS may shorten it, never below the Min-SE in force.
    const uint32_t floor = std::max(our_min, req.min_se.value_or(90));
    interval = std::max(std::min(*req.session_expires, cfg.session_expires), floor);
    interval = std::min(interval, *req.session_expires);
  }
  Refresher who;
  if (!req.supported_timer) {
    who = Refresher::kUas;  // §9: a UAC without the extension cannot refresh
  } else if (req.refresher) {
    who = *req.refresher;
  } else {
    who = cfg.refresher;
  }
  d.terms.interval = interval;
  d.terms.we_refresh = who == Refresher::kUas;
  d.require_timer = req.supported_timer;
  d.session_expires_header = std::to_string(interval) + ";refresher=" + to_string(who);
  return d;
}

SessionTimerTerms uac_session_timer(const SessionTimerConfig&, uint32_t requested,
                                    const SessionTimerHeaders& resp) {
  SessionTimerTerms t;
  if (!resp.session_expires) {
    // §7.2: the UAS does not take part; we may still refresh ourselves.
    t.interval = requested;
    t.we_refresh = true;
    return t;
  }
  t.interval = *resp.session_expires;
  // No refresher in a 2xx means the UAS lacks the extension: we refresh.
  t.we_refresh = !resp.refresher || *resp.refresher == Refresher::kUac;
  return t;
}

}  // namespace mapgw::sip
