// Reliable delivery of one control connection (RFC 2661 §5.8), knowing
// nothing of what the messages mean (DESIGN.md "L2TP layering"): Ns/Nr
// numbering modulo 2^16, the peer's receive window, retransmission of each
// unacknowledged message with exponential back-off and a cap, a ZLB when an
// acknowledgement has nothing to ride on, duplicates acknowledged and
// dropped, early messages held (within our window) until the gap fills.
// Time is passed in; the owner sends what `transmit` gets.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "vpn/l2tp/message.h"

namespace mapgw::l2tp {

// a < b in the 16-bit sequence space.
inline bool seq_before(uint16_t a, uint16_t b) { return static_cast<int16_t>(a - b) < 0; }

class ReliableChannel {
 public:
  using Clock = std::chrono::steady_clock;
  struct Config {
    uint16_t receive_window = 16;  // ours: how many early messages we hold (and advertise)
    std::chrono::milliseconds first_timeout{1000};
    std::chrono::milliseconds max_timeout{8000};  // RFC 2661 §5.8: the cap "no less than 8 s"
    int max_retransmissions = 5;
    std::chrono::milliseconds ack_delay{100};     // wait for a reply to carry the ack
  };
  struct Counters {
    uint64_t sent = 0, retransmitted = 0, received = 0, duplicates = 0, out_of_window = 0, held_early = 0,
             zlb_sent = 0, zlb_received = 0;
  };
  // Gets each message to put on the wire, Ns and Nr filled in (a ZLB has
  // no AVPs).
  using Transmit = std::function<void(const ControlMessage&)>;

  ReliableChannel(Config c, Transmit t) : cfg_(c), transmit_(std::move(t)) {}

  // The peer's Receive Window Size AVP (4 when it sent none, §4.4.3).
  void set_peer_window(uint16_t w) { peer_window_ = w ? w : 1; }
  // The peer's Assigned Tunnel ID: where our ZLBs go.
  void set_peer_tunnel(uint16_t id) { peer_tunnel_ = id; }

  // Queues @m (tunnel and session IDs set, Ns/Nr left to us) and sends what
  // the peer's window allows.
  void send(ControlMessage m, Clock::time_point now);

  // A control message from the peer: its Nr acknowledges ours; returns the
  // messages now deliverable, in order (none for a ZLB, a duplicate, an
  // early one).
  std::vector<ControlMessage> receive(const ControlMessage& m, Clock::time_point now);

  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  // The peer did not acknowledge a message after max_retransmissions.
  bool failed() const { return failed_; }
  // Nothing unacknowledged or waiting.
  bool idle() const { return in_flight_.empty() && waiting_.empty(); }
  uint16_t next_ns() const { return next_ns_; }
  uint16_t expected_ns() const { return expected_; }
  const Counters& counters() const { return counters_; }

 private:
  struct InFlight {
    ControlMessage m;
    Clock::time_point due;
    std::chrono::milliseconds timeout;
    int retransmissions = 0;
  };
  void pump(Clock::time_point now);
  void put(ControlMessage& m);
  void acknowledge(uint16_t nr);

  Config cfg_;
  Transmit transmit_;
  uint16_t peer_window_ = 4;
  uint16_t peer_tunnel_ = 0;
  uint16_t next_ns_ = 0;   // Ns of our next new message
  uint16_t expected_ = 0;  // Nr: the peer's next Ns we want
  std::deque<ControlMessage> waiting_;  // not yet sent: the peer's window is full
  std::deque<InFlight> in_flight_;      // sent, not acknowledged, in Ns order
  std::map<uint16_t, ControlMessage> early_;  // by Ns, each within our window ahead of expected_
  std::optional<Clock::time_point> ack_due_;
  bool failed_ = false;
  Counters counters_;
};

}  // namespace mapgw::l2tp
