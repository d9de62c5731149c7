// The RFC 1661 option-negotiation automaton (§4, its state table), once,
// for LCP, IPCP and IPV6CP (pppd's fsm.c is the model, DESIGN.md "PPP").
// Each protocol supplies its options through Protocol: what we ask for,
// its verdict on the peer's request, what to do with an Ack/Nak/Reject of
// ours, and the this-layer-up/down/started/finished actions. The restart
// timer and counters (Max-Configure 10, Max-Terminate 2, Max-Failure 5)
// are here; time is passed in; packets go out through `send`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vpn/ppp/packet.h"

namespace mapgw::ppp {

class Fsm {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kInitial, kStarting, kClosed, kStopped, kClosing, kStopping, kReqSent, kAckRcvd, kAckSent, kOpened };
  enum class Verdict { kAck, kNak, kReject };

  struct Config {
    int max_configure = 10, max_terminate = 2, max_failure = 5;
    // Configure-Requests we answer without opening: the RFC's table lets a
    // peer that never converges (Nak, Reject, again...) go on forever at
    // wire speed; a hostile one is stopped here.
    int max_unconverged = 40;
    std::chrono::milliseconds restart{3000};
  };

  class Protocol {
   public:
    virtual ~Protocol() = default;
    // The options of our next Configure-Request.
    virtual std::vector<Option> our_request() = 0;
    // The peer's Configure-Request: the verdict and, for Nak or Reject,
    // the options to send back. With @no_more_naks (Max-Failure reached),
    // what would be Nak'd is Rejected instead.
    virtual Verdict check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) = 0;
    // The peer's Nak / Reject of our request: adjust what we ask for next.
    // false: the answer makes no sense (e.g. it rejects what we never
    // asked for) and is dropped.
    virtual bool on_nak(const std::vector<Option>& naked) = 0;
    virtual bool on_reject(const std::vector<Option>& rejected) = 0;
    virtual void up() = 0;                                // this layer up
    virtual void down() = 0;                              // this layer down
    virtual void started() {}                             // this layer needs the lower one
    virtual void finished(const std::string& /*why*/) {}  // this layer is done with it
    // Codes beyond Code-Reject (LCP's Protocol-Reject, Echo, Discard):
    // true when handled, false → Code-Reject.
    virtual bool extra_code(const Packet&) { return false; }
  };

  struct Counters {
    uint64_t requests_sent = 0, acks_sent = 0, naks_sent = 0, rejects_sent = 0, code_rejects_sent = 0,
             terminates_sent = 0, malformed = 0, stale = 0, gave_up = 0;
  };

  // What a Protocol's check_request returns once it has sorted the
  // peer's options: any Reject wins (RFC 1661 §5.4), then any Nak (a
  // Reject instead past Max-Failure), else Ack.
  static Verdict verdict(std::vector<Option> naks, std::vector<Option> rejects, std::vector<Option>& reply,
                         bool no_more_naks);

  Fsm(std::string name, Config c, Protocol& p, std::function<void(const Packet&)> send)
      : name_(std::move(name)), cfg_(c), p_(p), send_(std::move(send)) {}

  // The RFC's events from the layers around it.
  void lower_up(Clock::time_point now);
  void lower_down();
  void open(Clock::time_point now);
  void close(const std::string& why, Clock::time_point now);
  // A packet of this protocol from the peer.
  void receive(std::string_view info, Clock::time_point now);

  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const { return timer_; }

  State state() const { return state_; }
  bool opened() const { return state_ == State::kOpened; }
  const std::string& why_finished() const { return why_; }
  const Counters& counters() const { return counters_; }
  const std::string& name() const { return name_; }
  static const char* to_string(State s);
  // For protocols that send their own codes (LCP's Echo): the next identifier.
  uint8_t next_id() { return ++extra_id_; }

 private:
  void send_request(Clock::time_point now);
  void send_terminate(Clock::time_point now);
  void send_code(uint8_t code, uint8_t id, std::string data);
  void this_layer_finished(const std::string& why);
  void on_configure_request(const Packet& p, Clock::time_point now);
  void on_configure_reply(const Packet& p, Clock::time_point now);
  void on_terminate_request(const Packet& p, Clock::time_point now);
  void on_terminate_ack(Clock::time_point now);
  void on_code_reject(const Packet& p, Clock::time_point now);
  void arm(Clock::time_point now) { timer_ = now + cfg_.restart; }
  void disarm() { timer_.reset(); }
  void irc(bool configure) { restarts_ = configure ? cfg_.max_configure : cfg_.max_terminate; }

  std::string name_;
  Config cfg_;
  Protocol& p_;
  std::function<void(const Packet&)> send_;
  State state_ = State::kInitial;
  int restarts_ = 0;
  int naks_sent_ = 0;  // toward Max-Failure, since the last Ack we sent
  int unconverged_ = 0;  // Configure-Requests answered since we were last opened
  uint8_t request_id_ = 0, extra_id_ = 0x80;
  std::optional<Clock::time_point> timer_;
  std::string why_;
  Counters counters_;
};

}  // namespace mapgw::ppp
