#include "vpn/l2tp/reliable.h"

#include <algorithm>

namespace mapgw::l2tp {

void ReliableChannel::put(ControlMessage& m) {
  // Every message carries the latest Nr: no separate ack is owed after it.
  m.nr = expected_;
  ack_due_.reset();
  transmit_(m);
}

void ReliableChannel::send(ControlMessage m, Clock::time_point now) {
  waiting_.push_back(std::move(m));
  pump(now);
}

void ReliableChannel::pump(Clock::time_point now) {
  while (!waiting_.empty() && in_flight_.size() < peer_window_) {
    InFlight f{std::move(waiting_.front()), now + cfg_.first_timeout, cfg_.first_timeout};
    waiting_.pop_front();
    f.m.ns = next_ns_++;
    put(f.m);
    ++counters_.sent;
    in_flight_.push_back(std::move(f));
  }
}

void ReliableChannel::acknowledge(uint16_t nr) {
  // Nr is the peer's next expected Ns: everything before it arrived.
  while (!in_flight_.empty() && seq_before(in_flight_.front().m.ns, nr)) in_flight_.pop_front();
}

std::vector<ControlMessage> ReliableChannel::receive(const ControlMessage& m, Clock::time_point now) {
  std::vector<ControlMessage> out;
  // An Nr past what we ever sent is a confused or hostile peer: ignore it
  // rather than "acknowledge" messages it never saw.
  if (!seq_before(next_ns_, m.nr)) acknowledge(m.nr);
  if (m.zlb()) {
    ++counters_.zlb_received;
    pump(now);
    return out;
  }
  ++counters_.received;
  if (m.ns == expected_) {
    out.push_back(m);
    ++expected_;
    for (auto it = early_.find(expected_); it != early_.end(); it = early_.find(expected_)) {
      out.push_back(std::move(it->second));
      early_.erase(it);
      ++expected_;
    }
    if (!ack_due_) ack_due_ = now + cfg_.ack_delay;
  } else if (seq_before(m.ns, expected_)) {
    // Our acknowledgement was lost: say again where we are, at once.
    ++counters_.duplicates;
    ack_due_ = now;
  } else if (static_cast<uint16_t>(m.ns - expected_) < cfg_.receive_window) {
    if (early_.emplace(m.ns, m).second) ++counters_.held_early;
    ack_due_ = now;  // tells the peer which one is missing
  } else {
    ++counters_.out_of_window;
  }
  pump(now);
  return out;
}

void ReliableChannel::on_timer(Clock::time_point now) {
  for (auto& f : in_flight_) {
    if (now < f.due) continue;
    if (f.retransmissions >= cfg_.max_retransmissions) {
      failed_ = true;
      return;
    }
    ++f.retransmissions;
    ++counters_.retransmitted;
    f.timeout = std::min(f.timeout * 2, cfg_.max_timeout);
    f.due = now + f.timeout;
    put(f.m);
  }
  if (ack_due_ && now >= *ack_due_) {
    // Nothing carried the acknowledgement: a ZLB (Ns = our next, unchanged).
    ControlMessage zlb;
    zlb.tunnel = peer_tunnel_;
    zlb.ns = next_ns_;
    ++counters_.zlb_sent;
    put(zlb);
  }
}

std::optional<ReliableChannel::Clock::time_point> ReliableChannel::next_deadline() const {
  std::optional<Clock::time_point> d = ack_due_;
  for (const auto& f : in_flight_) {
    if (!d || f.due < *d) d = f.due;
  }
  return d;
}

}  // namespace mapgw::l2tp
