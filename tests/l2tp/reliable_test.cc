// Reliable delivery (RFC 2661 §5.8) with loss and time injected: two
// channels joined by a simulated link that drops what a test says.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "vpn/l2tp/reliable.h"

namespace mapgw::l2tp {
namespace {

using Clock = ReliableChannel::Clock;
using std::chrono::milliseconds;

ControlMessage numbered(int i) {
  ControlMessage m;
  m.avps = {make_avp(avp::kMessageType, be16(6)), make_avp(avp::kCallSerialNumber, be32(i))};
  return m;
}

int number_of(const ControlMessage& m) { return static_cast<int>(*m.find(avp::kCallSerialNumber)->u32()); }

// A <-> B through a link; drop(from_a, nth message on that direction) decides losses.
struct Pair {
  Clock::time_point now{};
  std::function<bool(bool, int)> drop = [](bool, int) { return false; };
  int sent_ab = 0, sent_ba = 0;
  std::vector<ControlMessage> to_b, to_a;  // in flight on the wire
  std::vector<int> got_b, got_a;
  ReliableChannel a{{}, [this](const ControlMessage& m) {
                      if (!drop(true, sent_ab++)) to_b.push_back(m);
                    }};
  ReliableChannel b{{}, [this](const ControlMessage& m) {
                      if (!drop(false, sent_ba++)) to_a.push_back(m);
                    }};

  // Delivers what is on the wire, then advances time by @step, until both
  // sides are quiet or @limit passes.
  void run(milliseconds limit, milliseconds step = milliseconds(50)) {
    const auto end = now + limit;
    for (;;) {
      while (!to_b.empty() || !to_a.empty()) {
        auto tb = std::move(to_b);
        to_b.clear();
        for (auto& m : tb) {
          for (auto& d : b.receive(m, now)) got_b.push_back(number_of(d));
        }
        auto ta = std::move(to_a);
        to_a.clear();
        for (auto& m : ta) {
          for (auto& d : a.receive(m, now)) got_a.push_back(number_of(d));
        }
      }
      if (now >= end) return;
      now += step;
      a.on_timer(now);
      b.on_timer(now);
    }
  }
};

std::vector<int> upto(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return v;
}

TEST(L2tpReliable, InOrderWithoutLossAndOneZlbPerBurst) {
  Pair p;
  for (int i = 0; i < 3; ++i) p.a.send(numbered(i), p.now);
  p.run(milliseconds(2000));
  EXPECT_EQ(p.got_b, upto(3));
  EXPECT_TRUE(p.a.idle());
  EXPECT_EQ(p.a.counters().retransmitted, 0u);
  EXPECT_EQ(p.b.counters().zlb_sent, 1u);  // one acknowledgement after ack_delay
  EXPECT_EQ(p.a.next_ns(), 3);
  EXPECT_EQ(p.b.expected_ns(), 3);
}

TEST(L2tpReliable, ALostMessageIsRetransmittedAndTheLaterOnesHeld) {
  Pair p;
  p.drop = [](bool from_a, int nth) { return from_a && nth == 1; };  // the second message, once
  for (int i = 0; i < 4; ++i) p.a.send(numbered(i), p.now);
  p.run(milliseconds(5000));
  EXPECT_EQ(p.got_b, upto(4));  // 2 and 3 waited for 1
  EXPECT_EQ(p.b.counters().held_early, 2u);
  EXPECT_GE(p.a.counters().retransmitted, 1u);
  EXPECT_TRUE(p.a.idle());
  EXPECT_FALSE(p.a.failed());
}

TEST(L2tpReliable, ALostAckMakesADuplicateThatIsAcknowledgedAndDropped) {
  Pair p;
  p.drop = [](bool from_a, int nth) { return !from_a && nth == 0; };  // B's first ZLB
  p.a.send(numbered(0), p.now);
  p.run(milliseconds(4000));
  EXPECT_EQ(p.got_b, upto(1));  // delivered once
  EXPECT_EQ(p.b.counters().duplicates, 1u);
  EXPECT_TRUE(p.a.idle());
}

TEST(L2tpReliable, ThePeersWindowBoundsWhatIsUnacknowledged) {
  Pair p;
  p.a.set_peer_window(2);
  p.drop = [](bool from_a, int) { return !from_a; };  // B's acks never arrive
  for (int i = 0; i < 6; ++i) p.a.send(numbered(i), p.now);
  p.run(milliseconds(100));
  EXPECT_EQ(p.a.counters().sent, 2u);  // 4 wait for the window
  EXPECT_EQ(p.got_b, upto(2));
}

TEST(L2tpReliable, BackOffDoublesToTheCapThenGivesUp) {
  Pair p;
  std::vector<Clock::time_point> sends;
  p.drop = [&](bool from_a, int) {
    if (from_a) sends.push_back(p.now);
    return true;  // a dead peer
  };
  p.a.send(numbered(0), p.now);
  p.run(milliseconds(60000), milliseconds(10));
  EXPECT_TRUE(p.a.failed());
  ASSERT_EQ(sends.size(), 6u);  // the first and 5 retransmissions
  std::vector<long> gaps;
  for (size_t i = 1; i < sends.size(); ++i) {
    gaps.push_back(std::chrono::duration_cast<milliseconds>(sends[i] - sends[i - 1]).count());
  }
  EXPECT_EQ(gaps, (std::vector<long>{1000, 2000, 4000, 8000, 8000}));
}

TEST(L2tpReliable, FarAheadOrImpossibleNumbersChangeNothing) {
  Pair p;
  ControlMessage far = numbered(9);
  far.ns = 100;  // beyond our window of 16
  EXPECT_TRUE(p.b.receive(far, p.now).empty());
  EXPECT_EQ(p.b.counters().out_of_window, 1u);
  p.a.send(numbered(0), p.now);
  ControlMessage liar;  // acknowledges 50 messages A never sent
  liar.nr = 50;
  p.a.receive(liar, p.now);
  EXPECT_FALSE(p.a.idle());  // still waits for B's real acknowledgement
  p.run(milliseconds(2000));
  EXPECT_EQ(p.got_b, upto(1));
  EXPECT_TRUE(p.a.idle());
}

TEST(L2tpReliable, SequenceNumbersWrap) {
  EXPECT_TRUE(seq_before(65535, 0));
  EXPECT_FALSE(seq_before(0, 65535));
  Pair p;
  for (int i = 0; i < 70000; ++i) {
    p.a.send(numbered(i), p.now);
    p.run(milliseconds(0));
    if (i % 4 == 3) p.run(milliseconds(200));
  }
  p.run(milliseconds(2000));
  ASSERT_EQ(p.got_b.size(), 70000u);
  EXPECT_EQ(p.got_b.back(), 69999);
  EXPECT_EQ(p.a.counters().retransmitted, 0u);
}

}  // namespace
}  // namespace mapgw::l2tp
