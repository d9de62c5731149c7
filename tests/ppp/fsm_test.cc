// The RFC 1661 automaton with a toy protocol of one option, two ends back
// to back through a link that can lose packets; and the packet codec
// against bytes written out from RFC 1661 §5 and §6.
#include <gtest/gtest.h>

#include <deque>

#include "vpn/bytes.h"
#include "vpn/ppp/fsm.h"

namespace mapgw::ppp {
namespace {

using Clock = Fsm::Clock;
using std::chrono::milliseconds;

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

TEST(PppPacket, LcpConfigureRequestBytes) {
  // Configure-Request id 1: MRU 1400 (01 04 05 78), Magic 0x12345678.
  const std::string wire = hex("01010010" "01040578" "050612345678" "0702");
  auto p = parse_packet(wire + "pad");  // bytes past the length are padding
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->code, code::kConfigureRequest);
  auto o = parse_options(p->data);
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->size(), 3u);
  EXPECT_EQ((*o)[0], (Option{1, hex("0578")}));
  EXPECT_EQ((*o)[2], (Option{7, ""}));  // PFC, no value
  EXPECT_EQ(encode_packet(*p), wire);
  EXPECT_FALSE(parse_packet(hex("0101")).ok());
  EXPECT_FALSE(parse_packet(hex("01010010" "0104")).ok());     // length past the bytes
  EXPECT_FALSE(parse_options(hex("0100")).ok());                // option length under 2
  EXPECT_FALSE(parse_options(hex("0108ffff")).ok());            // option past the end
}

TEST(PppPacket, FramesWithAndWithoutCompression) {
  // A frame's info views its input: the inputs outlive the frames.
  const std::string lcp = hex("ff03c021") + "x", compressed = hex("21") + "ip";
  auto f = parse_frame(lcp);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->protocol, proto::kLcp);
  f = parse_frame(compressed);  // ACFC and PFC: IPv4 in one byte
  ASSERT_TRUE(f);
  EXPECT_EQ(f->protocol, proto::kIpv4);
  EXPECT_EQ(f->info, "ip");
  EXPECT_FALSE(parse_frame(hex("ff03c0")));  // an even last protocol byte
  EXPECT_EQ(encode_frame(proto::kLcp, "x", true, true), hex("ff03c021") + "x");  // LCP never compressed
  EXPECT_EQ(encode_frame(proto::kIpv4, "x", true, true), hex("21") + "x");
}

// One option (type 1) holding a byte the two ends must agree on: an end
// wants `mine` for itself and accepts from the peer only `accept`.
struct Toy : Fsm::Protocol {
  uint8_t mine = 5, accept = 5;
  bool reject_all = false;
  int ups = 0, downs = 0, finishes = 0;
  std::string finished_why;
  std::vector<Option> our_request() override { return {{1, std::string(1, static_cast<char>(mine))}}; }
  Fsm::Verdict check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) override {
    if (reject_all) {
      reply = theirs;
      return Fsm::Verdict::kReject;
    }
    for (const auto& o : theirs) {
      if (o.type != 1 || o.value.size() != 1) {
        reply = {o};
        return Fsm::Verdict::kReject;
      }
      if (static_cast<uint8_t>(o.value[0]) != accept) {
        reply = {{1, std::string(1, static_cast<char>(accept))}};
        return no_more_naks ? Fsm::Verdict::kReject : Fsm::Verdict::kNak;
      }
    }
    return Fsm::Verdict::kAck;
  }
  bool on_nak(const std::vector<Option>& naked) override {
    if (naked.empty() || naked[0].value.size() != 1) return false;
    mine = static_cast<uint8_t>(naked[0].value[0]);
    return true;
  }
  bool on_reject(const std::vector<Option>&) override { return true; }
  void up() override { ++ups; }
  void down() override { ++downs; }
  void finished(const std::string& why) override {
    ++finishes;
    finished_why = why;
  }
};

struct Link {
  Clock::time_point now{};
  Toy pa, pb;
  std::deque<std::string> to_a, to_b;
  std::function<bool(bool from_a, const Packet&)> drop = [](bool, const Packet&) { return false; };
  Fsm a{"A", {}, pa, [this](const Packet& p) {
          if (!drop(true, p)) to_b.push_back(encode_packet(p));
        }};
  Fsm b{"B", {}, pb, [this](const Packet& p) {
          if (!drop(false, p)) to_a.push_back(encode_packet(p));
        }};
  void run(milliseconds d) {
    const auto end = now + d;
    for (;;) {
      // Bounded: a livelock fails the test instead of hanging it.
      for (int n = 0; n < 10000 && (!to_a.empty() || !to_b.empty()); ++n) {
        if (!to_b.empty()) {
          auto m = to_b.front();
          to_b.pop_front();
          b.receive(m, now);
        }
        if (!to_a.empty()) {
          auto m = to_a.front();
          to_a.pop_front();
          a.receive(m, now);
        }
      }
      if (now >= end) return;
      now += milliseconds(100);
      a.on_timer(now);
      b.on_timer(now);
    }
  }
  void start() {
    a.open(now);
    b.open(now);
    a.lower_up(now);
    b.lower_up(now);
  }
};

TEST(PppFsm, BothEndsOpen) {
  Link l;
  l.start();
  l.run(milliseconds(0));
  EXPECT_EQ(l.a.state(), Fsm::State::kOpened);
  EXPECT_EQ(l.b.state(), Fsm::State::kOpened);
  EXPECT_EQ(l.pa.ups, 1);
  EXPECT_EQ(l.pb.ups, 1);
}

TEST(PppFsm, NakLeadsToAgreement) {
  Link l;
  l.pb.accept = 9;  // B wants A to use 9
  l.start();
  l.run(milliseconds(0));
  EXPECT_TRUE(l.a.opened() && l.b.opened());
  EXPECT_EQ(l.pa.mine, 9);
  EXPECT_EQ(l.b.counters().naks_sent, 1u);
}

TEST(PppFsm, LostPacketsAreRetransmittedByTheRestartTimer) {
  Link l;
  int dropped = 0;
  l.drop = [&](bool from_a, const Packet& p) { return from_a && p.code == code::kConfigureRequest && dropped++ < 2; };
  l.start();
  l.run(milliseconds(7000));
  EXPECT_TRUE(l.a.opened() && l.b.opened());
  EXPECT_EQ(l.a.counters().requests_sent, 3u);  // two lost, the third at 6 s
}

TEST(PppFsm, NeverAgreeingPeerIsNakedThenRejectedThenGivenUpOn) {
  Link l;
  l.pb.accept = 9;
  l.pa.accept = 5;
  // A refuses to move off 5: its Nak handler ignores B's suggestion.
  struct Stubborn : Toy {
    bool on_nak(const std::vector<Option>&) override { return true; }
  };
  Stubborn sa;
  Fsm a("A", {}, sa, [&](const Packet& p) { l.to_b.push_back(encode_packet(p)); });
  Fsm& b = l.b;
  a.open(l.now);
  b.open(l.now);
  a.lower_up(l.now);
  b.lower_up(l.now);
  for (int i = 0; i < 400 && !(a.state() == Fsm::State::kStopped); ++i) {
    for (int n = 0; n < 10000 && (!l.to_a.empty() || !l.to_b.empty()); ++n) {
      if (!l.to_b.empty()) {
        auto m = l.to_b.front();
        l.to_b.pop_front();
        b.receive(m, l.now);
      }
      if (!l.to_a.empty()) {
        auto m = l.to_a.front();
        l.to_a.pop_front();
        a.receive(m, l.now);
      }
    }
    l.now += milliseconds(100);
    a.on_timer(l.now);
    b.on_timer(l.now);
  }
  // B Nak'd 5 times (Max-Failure), then Rejected; A asked again and
  // again at wire speed, until B gave up on it (max_unconverged).
  EXPECT_EQ(b.counters().naks_sent, 5u);
  EXPECT_GE(b.counters().rejects_sent, 1u);
  EXPECT_EQ(b.counters().gave_up, 1u);
  EXPECT_NE(l.pb.finished_why.find("did not converge"), std::string::npos);
  EXPECT_FALSE(a.opened());
}

TEST(PppFsm, TerminateBothWaysAndDeadPeer) {
  Link l;
  l.start();
  l.run(milliseconds(0));
  l.a.close("admin", l.now);
  l.run(milliseconds(0));
  EXPECT_EQ(l.a.state(), Fsm::State::kClosed);
  EXPECT_EQ(l.pa.finished_why, "admin");
  EXPECT_EQ(l.pb.downs, 1);
  l.run(milliseconds(3100));  // B waits a restart period, then finishes
  EXPECT_EQ(l.b.state(), Fsm::State::kStopped);
  EXPECT_EQ(l.pb.finished_why, "Terminate-Request from the peer");

  Link dead;
  dead.start();
  dead.run(milliseconds(0));
  dead.drop = [](bool, const Packet&) { return true; };
  dead.a.close("admin", dead.now);
  dead.run(milliseconds(7000));  // Max-Terminate 2: two requests 3 s apart
  EXPECT_EQ(dead.a.state(), Fsm::State::kClosed);
  EXPECT_EQ(dead.a.counters().terminates_sent, 2u);
}

TEST(PppFsm, UnknownCodesAreCodeRejectedAndGarbageDropped) {
  Link l;
  l.start();
  l.run(milliseconds(0));
  Packet odd;
  odd.code = 42;
  odd.id = 7;
  l.b.receive(encode_packet(odd), l.now);
  ASSERT_FALSE(l.to_a.empty());
  auto rej = parse_packet(l.to_a.back());
  EXPECT_EQ(rej->code, code::kCodeReject);
  EXPECT_EQ(rej->data.substr(0, 2), std::string("\x2a\x07", 2));
  l.b.receive(hex("0101ffff"), l.now);  // a length past the bytes
  EXPECT_EQ(l.b.counters().malformed, 1u);
  EXPECT_TRUE(l.b.opened());
}

TEST(PppFsm, AStaleAnswerIsIgnored) {
  Link l;
  l.start();
  // A's first request answered late, after A sent its second: dropped.
  l.a.on_timer(l.now + milliseconds(3000));
  Packet ack;
  ack.code = code::kConfigureAck;
  ack.id = 1;
  ack.data = encode_options(l.pa.our_request());
  l.a.receive(encode_packet(ack), l.now);
  EXPECT_EQ(l.a.counters().stale, 1u);
  EXPECT_NE(l.a.state(), Fsm::State::kAckRcvd);
}

}  // namespace
}  // namespace mapgw::ppp
