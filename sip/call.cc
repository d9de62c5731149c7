#include "sip/call.h"

#include <osipparser2/osip_parser.h>

#include <algorithm>

namespace mapgw::sip {
namespace {

constexpr std::chrono::milliseconds kT1{500};
constexpr std::chrono::milliseconds kT2{4000};

SessionTimerHeaders timer_headers(const osip_message_t* m) {
  SessionTimerHeaders h;
  if (auto se = header_value(m, "Session-Expires", "x")) {
    if (auto parsed = parse_session_expires(*se)) {
      h.session_expires = parsed->first;
      h.refresher = parsed->second;
    }
  }
  if (auto min = header_value(m, "Min-SE")) {
    if (auto parsed = parse_session_expires(*min)) h.min_se = parsed->first;
  }
  h.supported_timer = header_has_token(m, "Supported", "timer", "k");
  h.require_timer = header_has_token(m, "Require", "timer");
  return h;
}

// The first URI of P-Asserted-Identity (RFC 3325), else From's URI.
std::string caller_identity(const osip_message_t* m) {
  if (auto pai = header_value(m, "P-Asserted-Identity")) {
    const size_t a = pai->find('<'), b = pai->find('>');
    if (a != std::string::npos && b != std::string::npos && b > a) return pai->substr(a + 1, b - a - 1);
    return *pai;
  }
  return m->from ? uri_string(m->from->url) : "";
}

std::string top_branch(const osip_message_t* m) {
  auto* via = static_cast<osip_via_t*>(osip_list_get(&m->vias, 0));
  osip_generic_param_t* b = nullptr;
  if (!via || osip_via_param_get_byname(via, const_cast<char*>("branch"), &b) != 0 || !b || !b->gvalue) {
    return {};
  }
  return b->gvalue;
}

// Warning text (RFC 3261 §20.43) naming the rule an offer broke.
std::string sdp_warning(const Endpoint& us, SdpReject r, const std::string& detail) {
  std::string text = std::string(to_string(r)) + " (" + clause(r) + "): " + detail;
  std::replace(text.begin(), text.end(), '"', '\'');
  return "399 " + us.host() + " \"" + text + "\"";
}

}  // namespace

const std::string Call::empty_;

Call::Call(UaCore& core, CallEvents& events, std::string id, Direction d)
    : core_(core), events_(events), id_(std::move(id)), direction_(d),
      state_(d == Direction::kOutgoing ? State::kCalling : State::kIncoming),
      auth_(core.auth_user(), core.cfg.password) {
  sdp_session_ = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
}

Call::~Call() { core_.stack.detach(this); }

const char* Call::state_name() const {
  switch (state_) {
    case State::kCalling: return "calling";
    case State::kProceeding: return "proceeding";
    case State::kIncoming: return "incoming";
    case State::kAnswered: return "answered";
    case State::kEstablished: return "established";
    case State::kTerminating: return "terminating";
    case State::kEnded: return "ended";
  }
  return "?";
}

std::unique_ptr<Call> Call::outgoing(UaCore& core, CallEvents& events, std::string id,
                                     std::string target, VpnRole role) {
  std::unique_ptr<Call> c(new Call(core, events, std::move(id), Direction::kOutgoing));
  c->target_ = std::move(target);
  c->peer_identity_ = c->target_;
  c->outgoing_role_ = role;
  return c;
}

std::unique_ptr<Call> Call::incoming(UaCore& core, CallEvents& events, std::string id,
                                     osip_transaction_t* ist, osip_message_t* invite,
                                     const Endpoint& from) {
  std::unique_ptr<Call> c(new Call(core, events, std::move(id), Direction::kIncoming));
  c->ist_ = ist;
  c->invite_ = invite;
  c->source_ = from;
  c->call_id_ = call_id_of(invite);
  c->local_tag_ = random_token(6);
  c->invite_branch_ = top_branch(invite);
  c->target_ = uri_string(invite->req_uri);
  c->peer_identity_ = caller_identity(invite);
  ++core.counters.calls_started[1];
  return c;
}

IkeMedia Call::our_media(std::optional<VpnRole> role, std::optional<IkeAuth> auth,
                         const Endpoint& toward) const {
  const LocalIkeConfig& ike = core_.cfg.ike;
  IkeMedia m;
  if (!ike.address.empty()) {
    m.address = ike.address;
    m.ipv6 = ike.address.find(':') != std::string::npos;
  } else {
    const Endpoint local = core_.local_for(toward);
    m.address = local.address();
    m.ipv6 = local.ipv6();
  }
  m.port = ike.port;
  const VpnRole r = role ? *role : outgoing_role_;
  m.setup = r == VpnRole::kClient ? IkeSetup::kActive : IkeSetup::kPassive;
  const IkeAuth a = auth ? *auth
                         : (ike.caps.psk && ike.psk_fingerprint && !ike.caps.password ? IkeAuth::kPsk
                            : ike.caps.password ? IkeAuth::kPassword
                                                : IkeAuth::kPsk);
  if (a == IkeAuth::kPsk) m.psk_fingerprint = ike.psk_fingerprint;
  if (a == IkeAuth::kPassword && r == VpnRole::kServer) m.cert_fingerprint = ike.cert_fingerprint;
  m.bandwidth_kbps = ike.bandwidth_kbps;
  return m;
}

// ---- UAC --------------------------------------------------------------

Status Call::start() {
  call_id_ = random_token(12);
  local_tag_ = random_token(6);
  requested_interval_ = core_.cfg.timers.session_expires;
  ++core_.counters.calls_started[0];
  Status st = send_invite({});
  if (!st) end("failed", 500);
  return st;
}

Status Call::send_invite(const HeaderList& extra) {
  auto hop = core_.first_hop(target_);
  if (!hop) return hop.error();
  offer_ = our_media(std::nullopt, std::nullopt, *hop);
  local_sdp_ = build_ike_sdp(offer_, sdp_session_, sdp_session_);
  RequestSpec r;
  r.method = "INVITE";
  r.request_uri = target_;
  r.from = core_.from_header(local_tag_);
  r.to = "<" + target_ + ">";
  r.call_id = call_id_;
  r.cseq = ++invite_cseq_;
  r.via = core_.local_for(*hop);
  r.branch = invite_branch_ = new_branch();
  r.contact = core_.contact_for(*hop);
  r.routes = core_.initial_routes();
  r.headers = extra;
  r.headers.emplace_back("Allow", kAllow);
  r.headers.emplace_back("Supported", "timer");
  r.headers.emplace_back("Session-Expires", std::to_string(requested_interval_));
  if (min_se_sent_) r.headers.emplace_back("Min-SE", std::to_string(min_se_sent_));
  r.headers.emplace_back("P-Preferred-Identity", "<" + core_.cfg.aor + ">");
  r.headers.emplace_back("User-Agent", core_.cfg.user_agent);
  r.content_type = "application/sdp";
  r.body = local_sdp_;
  auto msg = build_request(r);
  if (!msg) return msg.error();
  osip_message_t* copy = nullptr;
  if (osip_message_clone(msg->get(), &copy) != 0) return make_error("INVITE clone failed");
  invite_copy_.reset(copy);
  invite_hop_ = *hop;
  auto tr = core_.stack.send_request(std::move(*msg), *hop, this);
  if (!tr) return tr.error();
  invite_tr_ = *tr;
  return Status::Ok();
}

void Call::send_cancel() {
  if (!invite_copy_) return;
  RequestSpec r;
  r.method = "CANCEL";
  r.request_uri = uri_string(invite_copy_->req_uri);
  r.from = from_string(invite_copy_->from);
  r.to = from_string(invite_copy_->to);
  r.call_id = call_id_;
  r.cseq = invite_cseq_;
  r.via = core_.local_for(invite_hop_);
  r.branch = invite_branch_;  // §9.1: the INVITE's branch
  r.routes = core_.initial_routes();
  auto msg = build_request(r);
  if (msg) (void)core_.stack.send_request(std::move(*msg), invite_hop_, this);
  cancel_pending_ = false;
}

void Call::on_response(osip_transaction_t* tr, osip_message_t* m) {
  if (tr == invite_tr_) {
    on_invite_response(m);
  } else if (tr == refresh_tr_) {
    on_refresh_response(m);
  } else if (tr == bye_tr_ && status_of(m) >= 200) {
    bye_tr_ = nullptr;
    end(pending_reason_.empty() ? "local_bye" : pending_reason_);
  }
}

void Call::on_invite_response(osip_message_t* m) {
  const int code = status_of(m);
  if (code < 200) {
    got_provisional_ = true;
    if (state_ == State::kCalling) state_ = State::kProceeding;
    if (cancel_pending_) send_cancel();  // §9.1: CANCEL waits for a provisional
    return;
  }
  invite_tr_ = nullptr;  // the ICT ends on any final response
  if (code < 300) {
    on_invite_2xx(m);
    return;
  }
  final_status_ = code;
  if (state_ == State::kTerminating) {
    end(pending_reason_.empty() ? "cancelled" : pending_reason_, code);
    return;
  }
  if (code == 401 || code == 407) {
    auto h = auth_.answer(m, "INVITE", target_);
    if (!h) {
      ++core_.counters.auth_failures;
      end("auth_failed", code);
      return;
    }
    if (Status st = send_invite(*h); !st) end("failed", code);
    return;
  }
  if (code == 422 && !min_se_sent_) {  // RFC 4028 §7.4: again with their Min-SE
    auto min = header_value(m, "Min-SE");
    auto parsed = min ? parse_session_expires(*min) : std::nullopt;
    if (parsed && parsed->first > requested_interval_ && parsed->first <= 86400) {
      requested_interval_ = min_se_sent_ = parsed->first;
      if (Status st = send_invite(auth_.reuse("INVITE", target_)); st) return;
    }
  }
  end("rejected_" + std::to_string(code), code);
}

void Call::on_invite_2xx(osip_message_t* m) {
  auth_.succeeded();
  auto d = Dialog::from_response(m);
  if (!d) {
    end("bad_answer", 502);
    return;
  }
  d->local_cseq = invite_cseq_;
  dialog_ = std::move(*d);
  send_ack(*dialog_, invite_cseq_, &invite_hop_);
  final_status_ = status_of(m);
  if (state_ == State::kTerminating) {  // our CANCEL lost the race: §15
    bye_and_end(pending_reason_.empty() ? "cancelled" : pending_reason_);
    return;
  }
  remote_sdp_ = body_of(m);
  auto ans = accept_answer(offer_, remote_sdp_);
  if (!ans.ok()) {
    ++core_.counters.sdp_rejects[static_cast<int>(ans.reject)];
    sdp_reject_ = ans.reject;
    bye_and_end("sdp_rejected_" + std::string(to_string(ans.reject)));
    return;
  }
  ike_peer_ = ans.value;
  peer_allows_update_ = allows_method(m, "UPDATE");
  timer_ = uac_session_timer(core_.cfg.timers, requested_interval_, timer_headers(m));
  establish();
}

void Call::send_ack(Dialog& d, uint32_t cseq, const Endpoint* remember) {
  auto out = d.request(core_, "ACK", cseq);
  if (!out) return;
  out->spec.contact.clear();
  auto msg = build_request(out->spec);
  if (!msg) return;
  (void)core_.stack.send_stateless(msg->get(), out->next_hop);
  if (remember) {
    ack_ = std::move(*msg);
    ack_hop_ = out->next_hop;
  }
}

void Call::send_bye(Dialog& d, bool owned) {
  auto out = d.request(core_, "BYE");
  if (!out) {
    if (owned) end(pending_reason_.empty() ? "local_bye" : pending_reason_);
    return;
  }
  out->spec.contact.clear();
  auto msg = build_request(out->spec);
  if (!msg) return;
  auto tr = core_.stack.send_request(std::move(*msg), out->next_hop, owned ? this : nullptr);
  if (owned) {
    if (tr) bye_tr_ = *tr;
    else end(pending_reason_.empty() ? "local_bye" : pending_reason_);
  }
}

void Call::bye_and_end(const std::string& reason) {
  pending_reason_ = reason;
  state_ = State::kTerminating;
  if (dialog_) send_bye(*dialog_, true);
  else end(reason);
}

void Call::on_stray_response(osip_message_t* m, const Endpoint&) {
  if (status_of(m) < 200 || status_of(m) >= 300 || method_of(m) != "INVITE") return;
  if (dialog_ && tag_of(m->to) == dialog_->remote_tag) {
    // The 2xx again: our ACK was lost (§13.2.2.4).
    if (ack_) (void)core_.stack.send_stateless(ack_.get(), ack_hop_);
    return;
  }
  // Another branch of a forked INVITE answered: ACK it and release it
  // (RFC 6193 §5.3 keeps the first).
  auto d = Dialog::from_response(m);
  if (!d) return;
  d->local_cseq = cseq_of(m);
  send_ack(*d, cseq_of(m), nullptr);
  send_bye(*d, false);
  ++core_.counters.forked_answers_released;
}

// ---- UAS --------------------------------------------------------------

void Call::respond(osip_transaction_t* tr, const osip_message_t* req, int code,
                   const HeaderList& headers, const std::string& body) {
  if (!tr) return;
  auto msg = build_response(req, code, code == 100 ? "" : local_tag_, headers,
                            body.empty() ? "" : "application/sdp", body);
  if (!msg) return;
  if (code >= 200 && code < 300 && MSG_IS_INVITE(req)) {
    osip_message_t* copy = nullptr;
    if (osip_message_clone(msg->get(), &copy) == 0) {
      ok_copy_.reset(copy);
      ok_cseq_ = cseq_of(req);
      ok_interval_ = kT1;
      ok_next_ = core_.now + ok_interval_;
      ok_give_up_ = core_.now + 64 * kT1;
    }
  }
  core_.stack.respond(tr, std::move(*msg));
}

void Call::reject_incoming(int code, const std::string& reason, const HeaderList& headers) {
  respond(ist_, invite_, code, headers);
  ist_ = nullptr;
  invite_ = nullptr;
  final_status_ = code;
  end(reason, code);
}

void Call::answer_invite() {
  respond(ist_, invite_, 100);
  // Extensions we must understand (§8.2.2.3): only the session timer.
  for (const auto& tok : header_tokens(invite_, "Require")) {
    if (strcasecmp(tok.c_str(), "timer") != 0) {
      ++core_.counters.request_drops[static_cast<int>(RequestDrop::kUnsupported)];
      reject_incoming(420, "rejected_420", {{"Unsupported", tok}});
      return;
    }
  }
  remote_sdp_ = body_of(invite_);
  const auto offer = has_sdp_body(invite_)
                         ? accept_offer(core_.cfg.ike.caps, remote_sdp_)
                         : SdpOutcome<IkePeer>{SdpReject::kUnparsable, "no SDP offer in the INVITE", {}};
  if (!offer.ok()) {
    ++core_.counters.sdp_rejects[static_cast<int>(offer.reject)];
    sdp_reject_ = offer.reject;
    reject_incoming(488, "sdp_rejected_" + std::string(to_string(offer.reject)),
                    {{"Warning", sdp_warning(core_.local_for(source_), offer.reject, offer.detail)}});
    return;
  }
  const auto timer = uas_session_timer(core_.cfg.timers, timer_headers(invite_));
  if (timer.reject) {
    reject_incoming(timer.reject, "rejected_422", {{"Min-SE", std::to_string(timer.min_se)}});
    return;
  }
  ike_peer_ = offer.value;
  if (int code = events_.screen_incoming(*this)) {
    reject_incoming(code, "rejected_" + std::to_string(code));
    return;
  }
  auto d = Dialog::from_request(invite_, local_tag_);
  if (!d) {
    ++core_.counters.request_drops[static_cast<int>(RequestDrop::kBadRequest)];
    reject_incoming(400, "rejected_400");
    return;
  }
  dialog_ = std::move(*d);
  peer_allows_update_ = allows_method(invite_, "UPDATE");
  timer_ = timer.terms;
  const IkeMedia mine = our_media(ike_peer_->local_role, ike_peer_->auth, source_);
  answer_sdp_ = local_sdp_ = build_ike_sdp(mine, sdp_session_, sdp_session_);
  answer_headers_ = {{"Contact", core_.contact_for(source_)},
                     {"Allow", kAllow},
                     {"Supported", "timer"},
                     {"Session-Expires", timer.session_expires_header}};
  if (timer.require_timer) answer_headers_.emplace_back("Require", "timer");
  if (core_.cfg.answer_delay.count() > 0) {
    respond(ist_, invite_, 180, {{"Contact", core_.contact_for(source_)}});
    answer_at_ = core_.now + core_.cfg.answer_delay;
    return;
  }
  send_answer();
}

void Call::send_answer() {
  answer_at_.reset();
  events_.call_answering(*this);
  respond(ist_, invite_, 200, answer_headers_, answer_sdp_);
  ist_ = nullptr;  // the IST ends with the 2xx; the 2xx is ours to repeat now
  invite_ = nullptr;
  final_status_ = 200;
  state_ = State::kAnswered;
}

void Call::on_ack(osip_message_t* ack) {
  if (!ok_copy_ || cseq_of(ack) != ok_cseq_) return;
  ok_copy_.reset();
  if (state_ == State::kAnswered) {
    establish();
    if (bye_after_ack_) bye_and_end(pending_reason_.empty() ? "local_bye" : pending_reason_);
  }
}

void Call::on_cancel(osip_transaction_t* tr, osip_message_t* cancel) {
  auto ok = build_response(cancel, 200, local_tag_);
  if (ok) core_.stack.respond(tr, std::move(*ok));
  if (state_ == State::kIncoming && ist_) {
    reject_incoming(487, "cancelled_remote");  // §9.2
  }
}

// ---- inside the dialog -------------------------------------------------

void Call::on_request(osip_transaction_t* tr, osip_message_t* req) {
  const std::string method = method_of(req);
  const uint32_t cseq = cseq_of(req);
  if (dialog_ && dialog_->remote_cseq && cseq <= *dialog_->remote_cseq && method != "ACK") {
    // §12.2.2: out of order.
    ++core_.counters.request_drops[static_cast<int>(RequestDrop::kCseqOrder)];
    respond(tr, req, 500, {{"Retry-After", "1"}});
    return;
  }
  if (dialog_) dialog_->remote_cseq = cseq;
  if (method == "BYE") {
    respond(tr, req, 200);
    ok_copy_.reset();
    end("remote_bye");
    return;
  }
  if (method == "UPDATE" || method == "INVITE") {
    answer_refresh(tr, req);
    return;
  }
  if (method == "INFO" || method == "OPTIONS") {
    respond(tr, req, 200);
    return;
  }
  ++core_.counters.request_drops[static_cast<int>(RequestDrop::kUnknownMethod)];
  respond(tr, req, 405, {{"Allow", kAllow}});
}

void Call::answer_refresh(osip_transaction_t* tr, osip_message_t* req) {
  if (state_ != State::kEstablished || refresh_tr_) {
    respond(tr, req, 491, {{"Retry-After", "2"}});  // §14.2: one offer at a time
    return;
  }
  const auto d = uas_session_timer(core_.cfg.timers, timer_headers(req));
  if (d.reject) {
    respond(tr, req, d.reject, {{"Min-SE", std::to_string(d.min_se)}});
    return;
  }
  std::string body;
  if (has_sdp_body(req)) {
    // The IKE endpoint does not move within a call: the same terms or 488.
    auto offer = accept_offer(core_.cfg.ike.caps, body_of(req));
    if (!offer.ok() || offer.value.address != ike_peer_->address || offer.value.port != ike_peer_->port) {
      const SdpReject r = offer.ok() ? SdpReject::kNotIke : offer.reject;
      ++core_.counters.sdp_rejects[static_cast<int>(r)];
      respond(tr, req, 488, {{"Warning", sdp_warning(core_.local_for(source_), r, "the IKE endpoint cannot change")}});
      return;
    }
    body = local_sdp_;
  } else if (MSG_IS_INVITE(req)) {
    body = local_sdp_;  // an offerless re-INVITE gets our offer again
  }
  HeaderList h = {{"Contact", dialog_ ? core_.contact_for(source_.valid() ? source_ : invite_hop_) : ""},
                  {"Allow", kAllow},
                  {"Supported", "timer"},
                  {"Session-Expires", d.session_expires_header}};
  if (d.require_timer) h.emplace_back("Require", "timer");
  respond(tr, req, 200, h, body);
  timer_ = d.terms;
  ++core_.counters.session_refreshes_received;
  schedule_timer();
}

void Call::send_refresh() {
  const bool update = peer_allows_update_;
  auto out = dialog_->request(core_, update ? "UPDATE" : "INVITE");
  if (!out) {
    bye_and_end("refresh_failed");
    return;
  }
  out->spec.headers.emplace_back("Supported", "timer");
  // refresher=uac: the sender of this request (us) keeps refreshing.
  out->spec.headers.emplace_back("Session-Expires", std::to_string(timer_.interval) + ";refresher=uac");
  if (!update) {
    out->spec.headers.emplace_back("Allow", kAllow);
    out->spec.content_type = "application/sdp";
    out->spec.body = local_sdp_;
  }
  auto msg = build_request(out->spec);
  if (!msg) {
    bye_and_end("refresh_failed");
    return;
  }
  requested_interval_ = timer_.interval;
  auto tr = core_.stack.send_request(std::move(*msg), out->next_hop, this);
  if (!tr) {
    bye_and_end("refresh_failed");
    return;
  }
  refresh_tr_ = *tr;
  refresh_is_invite_ = !update;
  ++core_.counters.session_refreshes_sent;
  // Until it is answered, the hard end of the session.
  timer_at_ = core_.now + std::chrono::seconds(timer_.interval / 2) -
              std::chrono::seconds(std::min<uint32_t>(32, timer_.interval / 3));
}

void Call::on_refresh_response(osip_message_t* m) {
  const int code = status_of(m);
  if (code < 200) return;
  refresh_tr_ = nullptr;
  if (code < 300) {
    if (refresh_is_invite_ && dialog_) send_ack(*dialog_, cseq_of(m), &ack_hop_);
    timer_ = uac_session_timer(core_.cfg.timers, requested_interval_, timer_headers(m));
    schedule_timer();
    return;
  }
  if (code == 491) {  // §14.1: glare; try again shortly
    timer_at_ = core_.now + std::chrono::seconds(2);
    return;
  }
  bye_and_end("refresh_failed");
}

void Call::establish() {
  state_ = State::kEstablished;
  schedule_timer();
  events_.call_established(*this);
}

void Call::schedule_timer() {
  if (timer_.interval == 0) {
    timer_at_.reset();
    return;
  }
  timer_at_ = core_.now + timer_.deadline();
}

void Call::hangup(const std::string& reason) {
  pending_reason_ = reason;
  switch (state_) {
    case State::kCalling:
      pending_reason_ = "cancelled";
      cancel_pending_ = true;  // sent when a provisional arrives (§9.1)
      state_ = State::kTerminating;
      break;
    case State::kProceeding:
      pending_reason_ = "cancelled";
      state_ = State::kTerminating;
      send_cancel();
      break;
    case State::kIncoming:
      reject_incoming(603, reason);
      break;
    case State::kAnswered:
      bye_after_ack_ = true;  // §15: BYE only once the 2xx is ACKed or given up
      break;
    case State::kEstablished:
      bye_and_end(reason);
      break;
    case State::kTerminating:
    case State::kEnded:
      break;
  }
}

void Call::on_timeout(osip_transaction_t* tr) {
  if (tr == invite_tr_) {
    invite_tr_ = nullptr;
    final_status_ = 408;
    end(state_ == State::kTerminating ? (pending_reason_.empty() ? "cancelled" : pending_reason_)
                                      : "no_answer",
        408);
  } else if (tr == bye_tr_) {
    bye_tr_ = nullptr;
    end(pending_reason_.empty() ? "local_bye" : pending_reason_);
  } else if (tr == refresh_tr_) {
    refresh_tr_ = nullptr;
    bye_and_end("refresh_failed");
  }
}

void Call::on_timer() {
  const TimePoint now = core_.now;
  if (answer_at_ && now >= *answer_at_ && state_ == State::kIncoming) send_answer();
  if (ok_copy_ && now >= ok_next_) {
    if (now >= ok_give_up_) {
      ok_copy_.reset();
      if (state_ == State::kAnswered) {
        state_ = State::kEstablished;  // §13.3.1.4: confirmed, then ended with BYE
        bye_and_end("no_ack");
        return;
      }
    } else {
      (void)core_.stack.send_stateless(ok_copy_.get(), source_);
      ok_interval_ = std::min(ok_interval_ * 2, kT2);
      ok_next_ = now + ok_interval_;
    }
  }
  if (state_ == State::kEstablished && timer_at_ && now >= *timer_at_) {
    if (timer_.we_refresh && !refresh_tr_) {
      send_refresh();
    } else {
      ++core_.counters.sessions_expired;  // §10: no refresh came in time
      bye_and_end("session_expired");
    }
  }
}

std::optional<TimePoint> Call::next_deadline() const {
  std::optional<TimePoint> d;
  auto take = [&](std::optional<TimePoint> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  take(answer_at_);
  if (ok_copy_) take(ok_next_);
  if (state_ == State::kEstablished) take(timer_at_);
  return d;
}

void Call::end(const std::string& reason, int status) {
  if (state_ == State::kEnded) return;
  state_ = State::kEnded;
  end_reason_ = reason;
  if (status) final_status_ = status;
  timer_at_.reset();
  answer_at_.reset();
  ok_copy_.reset();
  ++core_.counters.call_results[reason];
  events_.call_ended(*this);
}

}  // namespace mapgw::sip
