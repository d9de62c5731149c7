#include "sip/registration.h"

#include <algorithm>

#include "sip/messages.h"

namespace mapgw::sip {

Registration::Registration(UaCore& core)
    : core_(core), auth_(core.auth_user(), core.cfg.password) {
  // One Call-ID and From tag for every REGISTER of this UA (RFC 3261 §10.2).
  call_id_ = random_token(12);
  from_tag_ = random_token(6);
}

Registration::~Registration() { core_.stack.detach(this); }

const char* Registration::state_name() const {
  switch (state_) {
    case State::kIdle: return "idle";
    case State::kRegistering: return "registering";
    case State::kRegistered: return "registered";
    case State::kRetryWait: return "retry_wait";
    case State::kUnregistering: return "unregistering";
    case State::kStopped: return "stopped";
  }
  return "?";
}

void Registration::start(TimePoint now) {
  backoff_ = std::chrono::seconds(0);
  send(core_.cfg.register_expires, {}, now);
}

void Registration::stop(TimePoint now) {
  const bool bound = state_ == State::kRegistered || (state_ == State::kRegistering && granted_);
  refresh_at_.reset();
  retry_at_.reset();
  if (!bound) {
    state_ = State::kStopped;
    return;
  }
  send(0, auth_.reuse("REGISTER", core_.cfg.registrar), now);
  state_ = State::kUnregistering;
}

void Registration::send(uint32_t expires, const HeaderList& auth, TimePoint now) {
  auto hop = core_.first_hop(core_.cfg.registrar);
  if (!hop) {
    fail(hop.error().message, now);
    return;
  }
  contact_uri_ = core_.contact_for(*hop);
  RequestSpec r;
  r.method = "REGISTER";
  r.request_uri = core_.cfg.registrar;
  r.from = core_.from_header(from_tag_);
  r.to = "<" + core_.cfg.aor + ">";
  r.call_id = call_id_;
  r.cseq = ++cseq_;
  r.via = core_.local_for(*hop);
  r.contact = contact_uri_;
  r.routes = core_.initial_routes();
  r.headers = auth;
  r.headers.emplace_back("Expires", std::to_string(expires));
  r.headers.emplace_back("User-Agent", core_.cfg.user_agent);
  contact_uri_ = contact_uri_.substr(1, contact_uri_.size() - 2);  // the URI inside <>
  requested_ = expires;
  auto msg = build_request(r);
  if (!msg) {
    fail(msg.error().message, now);
    return;
  }
  auto tr = core_.stack.send_request(std::move(*msg), *hop, this);
  if (!tr) {
    fail(tr.error().message, now);
    return;
  }
  pending_ = *tr;
  if (expires) state_ = State::kRegistering;
}

void Registration::fail(const std::string& why, TimePoint now) {
  ++core_.counters.registrations_failed;
  last_error_ = why;
  pending_ = nullptr;
  if (state_ == State::kUnregistering || state_ == State::kStopped) {
    state_ = State::kStopped;
    return;
  }
  // Doubling back-off between the configured bounds (RFC 5626 §4.5 style).
  backoff_ = backoff_.count() == 0 ? core_.cfg.register_retry_min
                                   : std::min(backoff_ * 2, core_.cfg.register_retry_max);
  retry_at_ = now + backoff_;
  state_ = State::kRetryWait;
  // An expired binding is gone; a live one stays until its time.
  if (expires_at_ && *expires_at_ <= now) expires_at_.reset();
}

void Registration::on_response(osip_transaction_t* tr, osip_message_t* m) {
  if (tr != pending_) return;
  const int code = status_of(m);
  if (code < 200) return;
  pending_ = nullptr;
  last_status_ = code;
  const TimePoint now = core_.now;
  if (state_ == State::kUnregistering) {
    if (code == 401 || code == 407) {
      auto h = auth_.answer(m, "REGISTER", core_.cfg.registrar);
      if (h) {
        send(0, *h, now);
        return;
      }
    }
    state_ = State::kStopped;
    expires_at_.reset();
    return;
  }
  if (code == 401 || code == 407) {
    auto h = auth_.answer(m, "REGISTER", core_.cfg.registrar);
    if (!h) {
      ++core_.counters.auth_failures;
      fail(h.error().message, now);
      return;
    }
    send(requested_, *h, now);
    return;
  }
  if (code == 423) {  // Interval Too Brief: ask for the Min-Expires
    auto min = header_value(m, "Min-Expires");
    const uint32_t want = min ? static_cast<uint32_t>(std::strtoul(min->c_str(), nullptr, 10)) : 0;
    if (want > requested_ && want <= 86400) {
      send(want, auth_.reuse("REGISTER", core_.cfg.registrar), now);
      return;
    }
  }
  if (code >= 300) {
    fail(std::to_string(code) + " " + (m->reason_phrase ? m->reason_phrase : ""), now);
    return;
  }
  auth_.succeeded();
  granted_ = sip::granted_expires(m, contact_uri_).value_or(requested_);
  if (granted_ == 0) {
    fail("registrar granted 0 seconds", now);
    return;
  }
  ++core_.counters.registrations_ok;
  last_error_.clear();
  backoff_ = std::chrono::seconds(0);
  state_ = State::kRegistered;
  expires_at_ = now + std::chrono::seconds(granted_);
  // Refresh well before expiry: half way for short bindings, a minute
  // ahead for long ones.
  const uint32_t ahead = std::max<uint32_t>(granted_ / 2, granted_ > 120 ? granted_ - 60 : 0);
  refresh_at_ = now + std::chrono::seconds(ahead);
}

void Registration::on_timeout(osip_transaction_t* tr) {
  if (tr != pending_) return;
  pending_ = nullptr;
  last_status_ = 408;
  fail("no answer from the registrar", core_.now);
}

void Registration::on_timer(TimePoint now) {
  if (state_ == State::kRegistered && refresh_at_ && now >= *refresh_at_) {
    refresh_at_.reset();
    send(core_.cfg.register_expires, auth_.reuse("REGISTER", core_.cfg.registrar), now);
    state_ = State::kRegistered;  // still bound while the refresh runs
  } else if (state_ == State::kRetryWait && retry_at_ && now >= *retry_at_) {
    retry_at_.reset();
    auth_.restart();
    send(core_.cfg.register_expires, {}, now);
  }
  if (expires_at_ && now >= *expires_at_ && state_ != State::kRegistered) expires_at_.reset();
}

std::optional<TimePoint> Registration::next_deadline() const {
  if (refresh_at_) return refresh_at_;
  return retry_at_;
}

}  // namespace mapgw::sip
