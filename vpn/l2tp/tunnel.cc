#include "vpn/l2tp/tunnel.h"

#include <openssl/rand.h>

#include "vpn/l2tp/codes.h"
#include "vpn/ppp/auth_crypto.h"

namespace mapgw::l2tp {
namespace {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

Avp type_avp(MessageType t) { return make_avp(avp::kMessageType, be16(static_cast<uint16_t>(t))); }

Avp result_avp(uint16_t result, uint16_t error, const std::string& message) {
  // Result Code, then Error Code and an optional message (§4.4.2).
  return make_avp(avp::kResultCode, be16(result) + be16(error) + message);
}

// The first unrecognised AVP with the M bit: RFC 2661 §4.1 says what it ends.
const Avp* unknown_mandatory(const ControlMessage& m) {
  for (const auto& a : m.avps) {
    if (a.mandatory && (a.vendor != 0 || a.type > avp::kLastKnown)) return &a;
  }
  return nullptr;
}

// The Result Code of a StopCCN or CDN (its first two bytes), 0 when absent.
uint16_t result_of(const ControlMessage& m) {
  const Avp* rc = m.find(avp::kResultCode);
  if (!rc || rc->value.size() < 2) return 0;
  return static_cast<uint16_t>(static_cast<uint8_t>(rc->value[0]) << 8 | static_cast<uint8_t>(rc->value[1]));
}

// The required AVP missing from @m, or -1.
int missing_required(MessageType t, const ControlMessage& m) {
  for (uint16_t need : required_avps(t)) {
    if (!m.find(need)) return need;
  }
  return -1;
}

bool is_session_message(MessageType t) {
  switch (t) {
    case MessageType::kIcrq:
    case MessageType::kIccn:
    case MessageType::kCdn:
    case MessageType::kWen:
    case MessageType::kSli:
    case MessageType::kOcrq:
    case MessageType::kOcrp:
    case MessageType::kOccn:
    case MessageType::kIcrp:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string challenge_response(uint8_t id, std::string_view secret, std::string_view challenge) {
  return ppp::chap_md5_response(id, secret, challenge);  // the same MD5 as CHAP's (RFC 2661 §4.4.3)
}

Tunnel::Tunnel(LnsSettings s, uint16_t local_id, Hooks h)
    : s_(std::move(s)), local_id_(local_id), hooks_(std::move(h)),
      channel_(s_.reliable, [this](const ControlMessage& m) { transmit(m); }) {}

void Tunnel::transmit(const ControlMessage& m) {
  auto wire = encode_control(m, s_.secret);
  if (wire) hooks_.send(*wire);  // our own messages always encode
}

void Tunnel::send(std::vector<Avp> avps, uint16_t session, Clock::time_point now) {
  ControlMessage m;
  m.tunnel = peer_id_;
  m.session = session;
  m.avps = std::move(avps);
  channel_.send(std::move(m), now);
}

void Tunnel::start(const ControlMessage& sccrq, Clock::time_point now) {
  last_now_ = last_heard_ = now;
  peer_id_ = sccrq.find(avp::kAssignedTunnelId) ? sccrq.find(avp::kAssignedTunnelId)->u16().value_or(0) : 0;
  channel_.set_peer_tunnel(peer_id_);
  if (const Avp* w = sccrq.find(avp::kReceiveWindowSize)) channel_.set_peer_window(w->u16().value_or(4));
  // The SCCRQ is the LAC's Ns 0: take it through the channel so that its
  // retransmissions are recognised as duplicates.
  (void)channel_.receive(sccrq, now);
  if (const Avp* h = sccrq.find(avp::kHostName)) peer_host_ = h->value;
  if (const Avp* v = sccrq.find(avp::kVendorName)) peer_vendor_ = v->value;
  auto refuse = [&](uint16_t result, uint16_t error, const std::string& why) {
    stop(result, error, why, now);
  };
  if (peer_id_ == 0) return refuse(stopccn::kGeneralError, error::kBadValue, "SCCRQ without an Assigned Tunnel ID");
  if (const Avp* a = unknown_mandatory(sccrq)) {
    ++counters_.unknown_mandatory;
    return refuse(stopccn::kGeneralError, error::kUnknownMandatoryAvp,
                  "unknown mandatory AVP " + std::to_string(a->type) + " in SCCRQ");
  }
  if (int need = missing_required(MessageType::kSccrq, sccrq); need >= 0) {
    return refuse(stopccn::kGeneralError, error::kBadLength, "SCCRQ without AVP " + std::to_string(need));
  }
  if (sccrq.find(avp::kProtocolVersion)->u16() != 0x0100) {
    // §4.4.3: Result 5, the Error Code the highest version we speak.
    return refuse(stopccn::kBadVersion, 0x0100, "protocol version not 1.0");
  }
  if (!s_.peer_host_name.empty() && peer_host_ != s_.peer_host_name) {
    return refuse(stopccn::kNotAuthorized, error::kNone, "host name '" + peer_host_ + "' is not the configured LAC");
  }
  std::vector<Avp> reply = {type_avp(MessageType::kSccrp),
                            make_avp(avp::kProtocolVersion, be16(0x0100)),
                            make_avp(avp::kFramingCapabilities, be32(3)),  // synchronous and asynchronous
                            make_avp(avp::kHostName, s_.host_name),
                            make_avp(avp::kAssignedTunnelId, be16(local_id_)),
                            make_avp(avp::kFirmwareRevision, be16(0x0100), false),
                            make_avp(avp::kVendorName, s_.vendor_name, false),
                            make_avp(avp::kReceiveWindowSize, be16(s_.reliable.receive_window))};
  if (const Avp* ch = sccrq.find(avp::kChallenge)) {
    if (s_.secret.empty()) {
      return refuse(stopccn::kNotAuthorized, error::kNone, "the LAC asks for tunnel authentication; no secret here");
    }
    reply.push_back(make_avp(avp::kChallengeResponse,
                             challenge_response(static_cast<uint8_t>(MessageType::kSccrp), s_.secret, ch->value)));
  }
  if (!s_.secret.empty()) {
    our_challenge_ = random_bytes(16);
    reply.push_back(make_avp(avp::kChallenge, our_challenge_));
  }
  send(std::move(reply), 0, now);
  state_ = State::kWaitScccn;
  setup_due_ = now + s_.setup_timeout;
}

void Tunnel::receive(const ControlMessage& m, Clock::time_point now) {
  last_now_ = now;
  if (state_ == State::kClosed && m.zlb()) return;
  last_heard_ = now;
  for (const auto& msg : channel_.receive(m, now)) {
    on_message(msg, now);
    if (state_ == State::kClosed) break;
  }
  if (state_ == State::kStopping && channel_.idle()) close(end_reason_, now);
}

void Tunnel::on_message(const ControlMessage& m, Clock::time_point now) {
  const uint16_t raw = m.type().value_or(0);
  const auto t = static_cast<MessageType>(raw);
  if (!known_message_type(raw)) {
    // An unknown message type (its Message Type AVP is always mandatory): §4.2.
    ++counters_.unknown_mandatory;
    return stop(stopccn::kGeneralError, error::kUnknownMandatoryAvp, "unknown message type " + std::to_string(raw), now);
  }
  if (state_ == State::kStopping || state_ == State::kClosed) {
    if (t == MessageType::kStopCcn) close(end_reason_, now);
    return;  // only acknowledged
  }
  if (const Avp* a = unknown_mandatory(m)) {
    ++counters_.unknown_mandatory;
    const std::string why = "unknown mandatory AVP " + std::to_string(a->type) + " in " + to_string(t);
    if (is_session_message(t) && sessions_.count(m.session)) {
      return disconnect(m.session, cdn::kGeneralError, why, now);
    }
    return stop(stopccn::kGeneralError, error::kUnknownMandatoryAvp, why, now);
  }
  switch (t) {
    case MessageType::kScccn: {
      if (state_ != State::kWaitScccn) {
        ++counters_.ignored;  // a late duplicate already acknowledged
        return;
      }
      if (!our_challenge_.empty()) {
        const Avp* r = m.find(avp::kChallengeResponse);
        if (!r || r->value != challenge_response(static_cast<uint8_t>(MessageType::kScccn), s_.secret, our_challenge_)) {
          return stop(stopccn::kNotAuthorized, error::kNone, "tunnel authentication failed (Challenge Response)", now);
        }
      }
      state_ = State::kEstablished;
      setup_due_.reset();
      return;
    }
    case MessageType::kStopCcn:
      close("StopCCN from the LAC (result " + std::to_string(result_of(m)) + ")", now);
      return;
    case MessageType::kHello:
      return;  // the acknowledgement is the answer
    case MessageType::kSccrq:
      ++counters_.ignored;  // a new SCCRQ inside a tunnel: a confused LAC
      return;
    default:
      break;
  }
  if (state_ != State::kEstablished) {
    return stop(stopccn::kFsmError, error::kNoControlConnection,
                std::string(to_string(t)) + " before the control connection was up", now);
  }
  on_session_message(t, m, now);
}

void Tunnel::on_session_message(MessageType t, const ControlMessage& m, Clock::time_point now) {
  if (t == MessageType::kIcrq) return on_icrq(m, now);
  if (t == MessageType::kOcrq) {
    // An LNS places no outgoing calls (§5.6: the LAC side does): refused.
    const Avp* id = m.find(avp::kAssignedSessionId);
    ++counters_.sessions_refused;
    send({type_avp(MessageType::kCdn),
          result_avp(cdn::kNoResources, error::kNone, "this LNS places no outgoing calls"),
          make_avp(avp::kAssignedSessionId, be16(0))},
         id ? id->u16().value_or(0) : 0, now);
    return;
  }
  auto it = sessions_.find(m.session);
  if (it == sessions_.end()) {
    ++counters_.ignored;  // a session we do not have (ended already, or never)
    return;
  }
  switch (t) {
    case MessageType::kIccn: {
      if (it->second.established) return;
      if (int need = missing_required(t, m); need >= 0) {
        return disconnect(it->first, cdn::kGeneralError, "ICCN without AVP " + std::to_string(need), now);
      }
      it->second.established = true;
      it->second.iccn_due.reset();
      if (hooks_.session_up) hooks_.session_up(*this, it->second);
      return;
    }
    case MessageType::kCdn:
      end_session(it, "CDN from the LAC (result " + std::to_string(result_of(m)) + ")");
      return;
    case MessageType::kWen:
    case MessageType::kSli:
      ++counters_.ignored;  // synchronous PPP over L2TP: no ACCM, no line errors to act on
      return;
    default:
      ++counters_.ignored;
      return;
  }
}

void Tunnel::on_icrq(const ControlMessage& m, Clock::time_point now) {
  const uint16_t peer_session = m.find(avp::kAssignedSessionId) ? m.find(avp::kAssignedSessionId)->u16().value_or(0) : 0;
  auto refuse = [&](uint16_t result, uint16_t error, const std::string& why) {
    ++counters_.sessions_refused;
    send({type_avp(MessageType::kCdn), result_avp(result, error, why),
          make_avp(avp::kAssignedSessionId, be16(unused_random_id(sessions_)))},
         peer_session, now);
  };
  if (int need = missing_required(MessageType::kIcrq, m); need >= 0 || peer_session == 0) {
    return refuse(cdn::kGeneralError, error::kBadValue, "ICRQ without a usable AVP " + std::to_string(need));
  }
  for (const auto& [id, s] : sessions_) {
    if (s.peer_id == peer_session) return;  // its ICRP is on its way (a duplicate was dropped already)
  }
  if (sessions_.size() >= s_.max_sessions) {
    return refuse(cdn::kNoResourcesNow, error::kNoResources, "session limit reached");
  }
  Session s;
  s.local_id = unused_random_id(sessions_);
  s.peer_id = peer_session;
  s.serial = m.find(avp::kCallSerialNumber)->u32().value_or(0);
  if (const Avp* a = m.find(avp::kCallingNumber)) s.calling_number = a->value;
  if (const Avp* a = m.find(avp::kCalledNumber)) s.called_number = a->value;
  s.started = now;
  s.iccn_due = now + s_.iccn_timeout;
  ++counters_.sessions_started;
  send({type_avp(MessageType::kIcrp), make_avp(avp::kAssignedSessionId, be16(s.local_id))}, peer_session, now);
  sessions_.emplace(s.local_id, s);
}

void Tunnel::end_session(std::map<uint16_t, Session>::iterator it, const std::string& why) {
  const Session s = it->second;
  sessions_.erase(it);
  if (s.established && hooks_.session_down) hooks_.session_down(*this, s, why);
}

void Tunnel::disconnect(uint16_t session, uint16_t result, const std::string& why, Clock::time_point now) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  send({type_avp(MessageType::kCdn), result_avp(result, error::kNone, why),
        make_avp(avp::kAssignedSessionId, be16(it->first))},
       it->second.peer_id, now);
  end_session(it, why);
}

void Tunnel::stop(uint16_t result, uint16_t error, const std::string& why, Clock::time_point now) {
  if (state_ == State::kStopping || state_ == State::kClosed) return;
  end_reason_ = why;
  while (!sessions_.empty()) end_session(sessions_.begin(), "tunnel stopping: " + why);
  send({type_avp(MessageType::kStopCcn), make_avp(avp::kAssignedTunnelId, be16(local_id_)),
        result_avp(result, error, why)},
       0, now);
  state_ = State::kStopping;
}

void Tunnel::stop_now(uint16_t result, const std::string& why, Clock::time_point now) {
  stop(result, error::kNone, why, now);
  close(why, now);
}

void Tunnel::close(const std::string& why, Clock::time_point now) {
  if (state_ == State::kClosed) return;
  if (end_reason_.empty()) end_reason_ = why;
  while (!sessions_.empty()) end_session(sessions_.begin(), "tunnel closed: " + end_reason_);
  state_ = State::kClosed;
  lingering_until_ = now + s_.linger;
  if (hooks_.closed) hooks_.closed(*this, end_reason_);
}

void Tunnel::on_timer(Clock::time_point now) {
  last_now_ = now;
  channel_.on_timer(now);
  if (channel_.failed()) {
    // The LAC stopped acknowledging: nothing more can be said to it.
    if (state_ != State::kClosed) close(state_ == State::kStopping ? end_reason_ : "LAC unreachable", now);
    return;
  }
  if (state_ == State::kStopping && channel_.idle()) return close(end_reason_, now);
  if (state_ != State::kEstablished && state_ != State::kWaitScccn) return;
  if (setup_due_ && now >= *setup_due_) {
    setup_due_.reset();
    return stop(stopccn::kFsmError, error::kNone, "no SCCCN in time", now);
  }
  std::vector<uint16_t> late;
  for (const auto& [id, s] : sessions_) {
    if (s.iccn_due && now >= *s.iccn_due) late.push_back(id);
  }
  for (uint16_t id : late) {
    ++counters_.iccn_timeouts;
    disconnect(id, cdn::kGeneralError, "no ICCN in time", now);
  }
  if (state_ == State::kEstablished && now - last_heard_ >= s_.hello_interval && channel_.idle()) {
    ++counters_.hellos_sent;
    last_heard_ = now;  // the next HELLO one interval later
    send({type_avp(MessageType::kHello)}, 0, now);
  }
}

std::optional<Tunnel::Clock::time_point> Tunnel::next_deadline() const {
  auto d = channel_.next_deadline();
  auto take = [&](Clock::time_point t) {
    if (!d || t < *d) d = t;
  };
  if (state_ == State::kClosed) {
    take(lingering_until_);
    return d;
  }
  for (const auto& [id, s] : sessions_) {
    if (s.iccn_due) take(*s.iccn_due);
  }
  if (setup_due_) take(*setup_due_);
  if (state_ == State::kEstablished) take(last_heard_ + s_.hello_interval);
  return d;
}

}  // namespace mapgw::l2tp
