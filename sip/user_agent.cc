#include "sip/user_agent.h"

#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>

namespace mapgw::sip {
namespace {

// Methods of RFC 3261 and its extensions that we know and do not serve
// outside a dialog (405); anything else is 501 (§8.2.1).
bool known_method(const std::string& m) {
  static const char* kKnown[] = {"REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO",
                                 "PRACK",    "REFER",     "PUBLISH", "UPDATE", "BYE"};
  for (const char* k : kKnown) {
    if (strcasecmp(m.c_str(), k) == 0) return true;
  }
  return false;
}

}  // namespace

UserAgent::UserAgent(const UaConfig& cfg) : cfg_(cfg) {}

Result<std::unique_ptr<UserAgent>> UserAgent::create(const UaConfig& cfg, DatagramSink& sink) {
  std::unique_ptr<UserAgent> ua(new UserAgent(cfg));
  auto stack = SipStack::create(sink, *ua);
  if (!stack) return stack.error();
  ua->stack_ = std::move(*stack);
  ua->core_.reset(new UaCore{*ua->stack_, sink, ua->cfg_, ua->counters_});
  if (!cfg.registrar.empty()) ua->registration_ = std::make_unique<Registration>(*ua->core_);
  return ua;
}

UserAgent::~UserAgent() {
  // Calls and the registration detach from the stack before it goes.
  calls_.clear();
  recent_.clear();
  registration_.reset();
}

void UserAgent::start(TimePoint now) {
  core_->now = now;
  if (registration_) registration_->start(now);
}

void UserAgent::stop(TimePoint now) {
  core_->now = now;
  const std::vector<Call*> live(live_.begin(), live_.end());
  for (Call* c : live) {
    if (!c->ended()) c->hangup("shutdown");
  }
  if (registration_) registration_->stop(now);
}

bool UserAgent::rate_limited(const Endpoint& from, TimePoint now) {
  if (cfg_.outbound_proxy && from.address() == cfg_.outbound_proxy->address()) return false;
  if (sources_.size() > 4096) sources_.clear();  // bounded: a spoofed sweep resets the windows
  SourceWindow& w = sources_[from.address()];
  if (now - w.start >= std::chrono::seconds(1)) {
    w.start = now;
    w.count = 0;
  }
  return ++w.count > cfg_.max_requests_per_second;
}

void UserAgent::receive(std::string_view data, const Endpoint& from, bool truncated, TimePoint now) {
  core_->now = now;
  if (rate_limited(from, now)) {
    ++counters_.request_drops[static_cast<int>(RequestDrop::kRateLimited)];
    return;
  }
  stack_->receive(data, from, truncated);
  reap(now);
}

void UserAgent::answer_outside_dialog(osip_transaction_t* tr, osip_message_t* req, int code,
                                      const HeaderList& headers) {
  auto msg = build_response(req, code, code == 100 ? "" : random_token(6), headers);
  if (msg) stack_->respond(tr, std::move(*msg));
  else stack_->discard(tr);
}

Call* UserAgent::add(std::unique_ptr<Call> call) {
  Call* c = call.get();
  by_call_id_.emplace(c->call_id(), c);
  live_.insert(c);
  calls_[c->id()] = std::move(call);
  return c;
}

Call* UserAgent::dialog_of(const osip_message_t* req) {
  const std::string local = tag_of(req->to), remote = tag_of(req->from);
  auto [first, last] = by_call_id_.equal_range(call_id_of(req));
  for (auto it = first; it != last; ++it) {
    Call* c = it->second;
    if (c->local_tag() == local && (c->remote_tag().empty() || c->remote_tag() == remote)) return c;
  }
  return nullptr;
}

void UserAgent::on_request(osip_transaction_t* tr, osip_message_t* req, const Endpoint& from) {
  const std::string method = method_of(req);
  if (!tr) {  // ACK
    if (Call* c = dialog_of(req)) c->on_ack(req);
    return;
  }
  if (method == "CANCEL") {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&req->vias, 0));
    osip_generic_param_t* b = nullptr;
    std::string branch;
    if (via && osip_via_param_get_byname(via, const_cast<char*>("branch"), &b) == 0 && b && b->gvalue) {
      branch = b->gvalue;
    }
    auto [first, last] = by_call_id_.equal_range(call_id_of(req));
    for (auto it = first; it != last; ++it) {
      Call* c = it->second;
      if (c->direction() == Call::Direction::kIncoming && c->invite_branch() == branch) {
        c->on_cancel(tr, req);
        return;
      }
    }
    ++counters_.request_drops[static_cast<int>(RequestDrop::kNoDialog)];
    answer_outside_dialog(tr, req, 481);
    return;
  }
  if (!tag_of(req->to).empty()) {
    if (Call* c = dialog_of(req)) {
      c->on_request(tr, req);
      return;
    }
    ++counters_.request_drops[static_cast<int>(RequestDrop::kNoDialog)];
    answer_outside_dialog(tr, req, 481);
    return;
  }
  if (method == "INVITE") {
    if (live_calls() >= cfg_.max_calls) {
      ++counters_.request_drops[static_cast<int>(RequestDrop::kTooManyCalls)];
      answer_outside_dialog(tr, req, 486);
      return;
    }
    const std::string id = std::to_string(next_id_++);
    Call* c = add(Call::incoming(*core_, *this, id, tr, req, from));
    spdlog::debug("sip: call {} from {} ({})", id, c->peer_identity(), from.str());
    c->answer_invite();
    return;
  }
  if (method == "OPTIONS") {
    answer_outside_dialog(tr, req, 200, {{"Allow", kAllow}, {"Accept", "application/sdp"}});
    return;
  }
  if (method == "BYE" || method == "UPDATE") {
    ++counters_.request_drops[static_cast<int>(RequestDrop::kNoDialog)];
    answer_outside_dialog(tr, req, 481);
    return;
  }
  ++counters_.request_drops[static_cast<int>(RequestDrop::kUnknownMethod)];
  answer_outside_dialog(tr, req, known_method(method) ? 405 : 501, {{"Allow", kAllow}});
}

void UserAgent::on_stray_response(osip_message_t* resp, const Endpoint& from) {
  auto [first, last] = by_call_id_.equal_range(call_id_of(resp));
  for (auto it = first; it != last; ++it) {
    if (it->second->direction() == Call::Direction::kOutgoing) {
      it->second->on_stray_response(resp, from);
      return;
    }
  }
}

int UserAgent::screen_incoming(const Call& c) { return observer_ ? observer_->screen_incoming(c) : 0; }

void UserAgent::call_answering(Call& c) {
  if (observer_) observer_->call_answering(c);
}

void UserAgent::call_established(Call& c) {
  const auto& p = *c.ike_peer();
  spdlog::info("sip: call {} established with {}: IKE {} [{}]:{} as {}, {} auth, session timer {} s ({})",
               c.id(), c.peer_identity(), p.ipv6 ? "IPv6" : "IPv4", p.address, p.port,
               to_string(p.local_role), to_string(p.auth), c.timer().interval,
               c.timer().we_refresh ? "we refresh" : "they refresh");
  if (observer_) observer_->call_established(c);
}

void UserAgent::call_ended(Call& c) {
  spdlog::info("sip: call {} ended: {}{}", c.id(), c.end_reason(),
               c.final_status() ? " (" + std::to_string(c.final_status()) + ")" : "");
  live_.erase(&c);
  // Our outgoing calls linger for late 2xx (retransmitted or forked, to
  // ACK and release); an incoming call has nothing left to answer that its
  // transactions do not absorb, and goes at the next reap.
  const bool linger = c.direction() == Call::Direction::kOutgoing;
  ended_.emplace_back(linger ? core_->now : core_->now - kEndedLinger, c.id());
  if (observer_) observer_->call_ended(c);
}

void UserAgent::reap(TimePoint now) {
  while (!ended_.empty() && now - ended_.front().first >= kEndedLinger) {
    auto c = calls_.find(ended_.front().second);
    ended_.pop_front();
    if (c == calls_.end()) continue;
    auto [first, last] = by_call_id_.equal_range(c->second->call_id());
    for (auto it = first; it != last; ++it) {
      if (it->second == c->second.get()) {
        by_call_id_.erase(it);
        break;
      }
    }
    recent_.push_back(std::move(c->second));
    calls_.erase(c);
    if (recent_.size() > kEndedCallsKept) recent_.erase(recent_.begin());
  }
}

void UserAgent::on_timer(TimePoint now) {
  core_->now = now;
  stack_->run();
  if (registration_) {
    const auto before = registration_->state();
    registration_->on_timer(now);
    if (registration_->state() != before) {
      spdlog::info("sip: registration {}", registration_->state_name());
    }
  }
  // A timer may end a call (live_ changes under us): a copy.
  const std::vector<Call*> live(live_.begin(), live_.end());
  for (Call* c : live) {
    if (!c->ended()) c->on_timer();
  }
  reap(now);
}

TimePoint UserAgent::next_deadline(TimePoint now) {
  TimePoint d = now + stack_->next_timeout();
  auto take = [&](std::optional<TimePoint> t) {
    if (t && *t < d) d = *t;
  };
  if (registration_) take(registration_->next_deadline());
  for (Call* c : live_) take(c->next_deadline());
  if (!ended_.empty()) take(ended_.front().first + kEndedLinger);
  return std::max(d, now);
}

Result<std::string> UserAgent::call(const std::string& target, VpnRole role, TimePoint now) {
  core_->now = now;
  if (live_calls() >= cfg_.max_calls) return make_error("max_calls (" + std::to_string(cfg_.max_calls) + ") reached");
  const std::string id = std::to_string(next_id_++);
  auto call = Call::outgoing(*core_, *this, id, target, role);
  Call* c = call.get();
  calls_[id] = std::move(call);
  live_.insert(c);
  spdlog::info("sip: call {} to {}", id, target);
  // Its Call-ID exists once start() made it.
  Status st = c->start();
  by_call_id_.emplace(c->call_id(), c);
  if (!st) return make_error("calling " + target + ": " + st.error().message);
  return id;
}

Status UserAgent::hangup(const std::string& id, TimePoint now) {
  core_->now = now;
  auto it = calls_.find(id);
  if (it == calls_.end() || it->second->ended()) return make_error("no call " + id);
  it->second->hangup("local_hangup");
  return Status::Ok();
}

std::vector<const Call*> UserAgent::calls() const {
  std::vector<const Call*> out;
  for (auto& [id, c] : calls_) out.push_back(c.get());
  return out;
}

std::vector<const Call*> UserAgent::recent_calls() const {
  std::vector<const Call*> out;
  for (auto& c : recent_) out.push_back(c.get());
  return out;
}

const Call* UserAgent::find_call(const std::string& id) const {
  auto it = calls_.find(id);
  if (it != calls_.end()) return it->second.get();
  for (auto& c : recent_) {
    if (c->id() == id) return c.get();
  }
  return nullptr;
}

}  // namespace mapgw::sip
