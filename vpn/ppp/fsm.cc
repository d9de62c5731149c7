#include "vpn/ppp/fsm.h"

namespace mapgw::ppp {

using S = Fsm::State;

const char* Fsm::to_string(State s) {
  switch (s) {
    case S::kInitial: return "initial";
    case S::kStarting: return "starting";
    case S::kClosed: return "closed";
    case S::kStopped: return "stopped";
    case S::kClosing: return "closing";
    case S::kStopping: return "stopping";
    case S::kReqSent: return "req-sent";
    case S::kAckRcvd: return "ack-rcvd";
    case S::kAckSent: return "ack-sent";
    case S::kOpened: return "opened";
  }
  return "?";
}

Fsm::Verdict Fsm::verdict(std::vector<Option> naks, std::vector<Option> rejects, std::vector<Option>& reply,
                         bool no_more_naks) {
  if (!rejects.empty()) {
    reply = std::move(rejects);
    return Verdict::kReject;
  }
  if (!naks.empty()) {
    reply = std::move(naks);
    return no_more_naks ? Verdict::kReject : Verdict::kNak;
  }
  return Verdict::kAck;
}

void Fsm::send_code(uint8_t c, uint8_t id, std::string data) {
  Packet p;
  p.code = c;
  p.id = id;
  p.data = std::move(data);
  send_(p);
}

void Fsm::send_request(Clock::time_point now) {
  // A new identifier for every request: a late answer to an old one is stale.
  ++request_id_;
  ++counters_.requests_sent;
  --restarts_;
  send_code(code::kConfigureRequest, request_id_, encode_options(p_.our_request()));
  arm(now);
}

void Fsm::send_terminate(Clock::time_point now) {
  ++counters_.terminates_sent;
  --restarts_;
  send_code(code::kTerminateRequest, ++request_id_, "");
  arm(now);
}

void Fsm::this_layer_finished(const std::string& why) {
  why_ = why;
  disarm();
  p_.finished(why);
}

void Fsm::lower_up(Clock::time_point now) {
  switch (state_) {
    case S::kInitial: state_ = S::kClosed; break;
    case S::kStarting:
      irc(true);
      send_request(now);
      state_ = S::kReqSent;
      break;
    default: break;  // not an event these states see
  }
}

void Fsm::lower_down() {
  disarm();
  switch (state_) {
    case S::kClosed:
    case S::kClosing: state_ = S::kInitial; break;
    case S::kStopped:
      p_.started();
      state_ = S::kStarting;
      break;
    case S::kStopping:
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent: state_ = S::kStarting; break;
    case S::kOpened:
      p_.down();
      state_ = S::kStarting;
      break;
    default: break;
  }
}

void Fsm::open(Clock::time_point now) {
  switch (state_) {
    case S::kInitial:
      p_.started();
      state_ = S::kStarting;
      break;
    case S::kClosed:
      irc(true);
      send_request(now);
      state_ = S::kReqSent;
      break;
    case S::kClosing: state_ = S::kStopping; break;
    default: break;
  }
}

void Fsm::close(const std::string& why, Clock::time_point now) {
  why_ = why;
  switch (state_) {
    case S::kStarting:
      state_ = S::kInitial;
      this_layer_finished(why);
      break;
    case S::kStopped: state_ = S::kClosed; break;
    case S::kStopping: state_ = S::kClosing; break;
    case S::kOpened:
      p_.down();
      [[fallthrough]];
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent:
      irc(false);
      send_terminate(now);
      state_ = S::kClosing;
      break;
    default: break;
  }
}

void Fsm::on_timer(Clock::time_point now) {
  if (!timer_ || now < *timer_) return;
  timer_.reset();
  const bool more = restarts_ > 0;
  switch (state_) {
    case S::kClosing:
    case S::kStopping:
      if (more) {
        send_terminate(now);
      } else {
        state_ = state_ == S::kClosing ? S::kClosed : S::kStopped;
        this_layer_finished(why_.empty() ? "no Terminate-Ack" : why_);
      }
      break;
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent:
      if (more) {
        send_request(now);
        if (state_ == S::kAckRcvd) state_ = S::kReqSent;
      } else {
        state_ = S::kStopped;
        this_layer_finished("negotiation did not converge (Max-Configure)");
      }
      break;
    default: break;
  }
}

void Fsm::receive(std::string_view info, Clock::time_point now) {
  auto p = parse_packet(info);
  if (!p) {
    ++counters_.malformed;  // silently discarded (RFC 1661 §5)
    return;
  }
  if (state_ == S::kInitial || state_ == S::kStarting) {
    ++counters_.stale;  // the lower layer is not up: nothing to say yet
    return;
  }
  switch (p->code) {
    case code::kConfigureRequest: return on_configure_request(*p, now);
    case code::kConfigureAck:
    case code::kConfigureNak:
    case code::kConfigureReject: return on_configure_reply(*p, now);
    case code::kTerminateRequest: return on_terminate_request(*p, now);
    case code::kTerminateAck: return on_terminate_ack(now);
    case code::kCodeReject: return on_code_reject(*p, now);
    default:
      if (p_.extra_code(*p)) return;
      // RUC: Code-Reject with as much of the packet as fits (§5.6).
      ++counters_.code_rejects_sent;
      send_code(code::kCodeReject, next_id(), encode_packet(*p).substr(0, 1496));
  }
}

void Fsm::on_configure_request(const Packet& p, Clock::time_point now) {
  auto opts = parse_options(p.data);
  if (!opts) {
    ++counters_.malformed;
    return;
  }
  switch (state_) {
    case S::kClosed:
      send_code(code::kTerminateAck, p.id, "");
      return;
    case S::kClosing:
    case S::kStopping:
      return;
    case S::kOpened:
      // Renegotiation: down first, then our request again.
      p_.down();
      irc(true);
      send_request(now);
      break;
    case S::kStopped:
      irc(true);
      send_request(now);
      break;
    default:
      break;
  }
  if (++unconverged_ > cfg_.max_unconverged) {
    ++counters_.gave_up;
    unconverged_ = 0;
    const std::string why = "negotiation did not converge (" + std::to_string(cfg_.max_unconverged) +
                            " Configure-Requests)";
    close(why, now);
    return;
  }
  std::vector<Option> reply;
  const Verdict v = p_.check_request(*opts, reply, naks_sent_ >= cfg_.max_failure);
  if (state_ == S::kClosing || state_ == S::kStopping) return;  // the protocol closed the link meanwhile
  if (v == Verdict::kAck) {
    ++counters_.acks_sent;
    naks_sent_ = 0;
    send_code(code::kConfigureAck, p.id, p.data);
    if (state_ == S::kAckRcvd) {
      disarm();
      state_ = S::kOpened;
      unconverged_ = 0;
      p_.up();
    } else {
      state_ = S::kAckSent;
    }
    return;
  }
  if (v == Verdict::kNak) {
    ++counters_.naks_sent;
    ++naks_sent_;
  } else {
    ++counters_.rejects_sent;
  }
  send_code(v == Verdict::kNak ? code::kConfigureNak : code::kConfigureReject, p.id, encode_options(reply));
  if (state_ != S::kAckRcvd) state_ = S::kReqSent;
}

void Fsm::on_configure_reply(const Packet& p, Clock::time_point now) {
  if (p.id != request_id_) {
    ++counters_.stale;  // an answer to a request we no longer stand by
    return;
  }
  auto opts = parse_options(p.data);
  if (!opts) {
    ++counters_.malformed;
    return;
  }
  switch (state_) {
    case S::kClosed:
    case S::kStopped:
      send_code(code::kTerminateAck, p.id, "");
      return;
    case S::kClosing:
    case S::kStopping:
      return;
    default:
      break;
  }
  if (p.code == code::kConfigureAck) {
    switch (state_) {
      case S::kReqSent:
        irc(true);
        disarm();
        state_ = S::kAckRcvd;
        break;
      case S::kAckRcvd:  // crossed: start again
        send_request(now);
        state_ = S::kReqSent;
        break;
      case S::kAckSent:
        irc(true);
        disarm();
        state_ = S::kOpened;
        unconverged_ = 0;
        p_.up();
        break;
      case S::kOpened:
        p_.down();
        send_request(now);
        state_ = S::kReqSent;
        break;
      default: break;
    }
    return;
  }
  const bool ok = p.code == code::kConfigureNak ? p_.on_nak(*opts) : p_.on_reject(*opts);
  if (!ok) {
    ++counters_.malformed;
    return;
  }
  switch (state_) {
    case S::kReqSent:
    case S::kAckSent:
      irc(true);
      send_request(now);
      break;
    case S::kAckRcvd:
      send_request(now);
      state_ = S::kReqSent;
      break;
    case S::kOpened:
      p_.down();
      send_request(now);
      state_ = S::kReqSent;
      break;
    default: break;
  }
}

void Fsm::on_terminate_request(const Packet& p, Clock::time_point now) {
  send_code(code::kTerminateAck, p.id, "");
  switch (state_) {
    case S::kAckRcvd:
    case S::kAckSent: state_ = S::kReqSent; break;
    case S::kOpened:
      // Zero restart counter, wait one restart period, then finished.
      p_.down();
      why_ = "Terminate-Request from the peer";
      restarts_ = 0;
      arm(now);
      state_ = S::kStopping;
      break;
    default: break;
  }
}

void Fsm::on_terminate_ack(Clock::time_point now) {
  switch (state_) {
    case S::kClosing:
      state_ = S::kClosed;
      this_layer_finished(why_.empty() ? "closed" : why_);
      break;
    case S::kStopping:
      state_ = S::kStopped;
      this_layer_finished(why_.empty() ? "stopped" : why_);
      break;
    case S::kAckRcvd: state_ = S::kReqSent; break;
    case S::kOpened:
      p_.down();
      send_request(now);
      state_ = S::kReqSent;
      break;
    default: break;
  }
}

void Fsm::on_code_reject(const Packet& p, Clock::time_point now) {
  // RXJ-: the peer rejected a code this protocol cannot do without
  // (1..7); anything else (Echo, Discard...) is RXJ+, acceptable.
  const uint8_t rejected = p.data.empty() ? 0 : static_cast<uint8_t>(p.data[0]);
  if (rejected > code::kCodeReject || rejected == 0) {
    if (state_ == S::kAckRcvd) state_ = S::kReqSent;
    return;
  }
  const std::string why = "the peer rejected code " + std::to_string(rejected);
  switch (state_) {
    case S::kClosed:
    case S::kStopped: this_layer_finished(why); break;
    case S::kClosing:
      state_ = S::kClosed;
      this_layer_finished(why);
      break;
    case S::kStopping:
    case S::kReqSent:
    case S::kAckRcvd:
    case S::kAckSent:
      state_ = S::kStopped;
      this_layer_finished(why);
      break;
    case S::kOpened:
      p_.down();
      why_ = why;
      irc(false);
      send_terminate(now);
      state_ = S::kStopping;
      break;
    default: break;
  }
}

}  // namespace mapgw::ppp
