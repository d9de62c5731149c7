// Calls between two of our user agents over an in-memory network, with
// injected time: the INVITE/200/ACK exchange and its IKE terms, 488 on an
// offer the callee cannot take, CANCEL before the answer, BYE both ways,
// session refresh at half the interval and the end of a session whose
// refresh never comes (RFC 4028 §10), 2xx retransmission until the ACK,
// a forked second 2xx released with BYE, CSeq order.
#include <gtest/gtest.h>

#include <algorithm>

#include "fake_net.h"

namespace mapgw::sip {
namespace {

using fake::FakeNet;
using fake::FakeSink;
using std::chrono::milliseconds;
using std::chrono::seconds;

Endpoint ep(const char* host) { return *Endpoint::parse(host, 5060); }

UaConfig config(const char* aor, bool server) {
  UaConfig c;
  c.aor = aor;
  c.ike.port = server ? 22222 : 4500;
  c.ike.caps.client = !server;
  c.ike.caps.server = server;
  c.ike.caps.password = true;
  if (server) {
    c.ike.cert_fingerprint =
        *parse_fingerprint("SHA-1 52:B6:5D:FA:BF:8A:8A:DB:7B:78:49:21:2C:AB:86:71:DC:9D:1C:65");
  }
  return c;
}

struct Pair : ::testing::Test {
  FakeNet net;
  Endpoint a_ep = ep("2001:db8::1"), b_ep = ep("2001:db8::2");
  FakeSink a_sink{net, a_ep}, b_sink{net, b_ep};
  UaConfig a_cfg = config("sip:0311111111@example.ne.jp", false);
  UaConfig b_cfg = config("sip:0322222222@example.ne.jp", true);
  std::unique_ptr<UserAgent> a, b;
  TimePoint now = TimePoint(seconds(1000));

  void make() {
    a = std::move(UserAgent::create(a_cfg, a_sink).value());
    b = std::move(UserAgent::create(b_cfg, b_sink).value());
    net.attach(a_ep, a.get());
    net.attach(b_ep, b.get());
    a->start(now);
    b->start(now);
  }
  void advance(std::chrono::milliseconds d) {
    now += d;
    a->on_timer(now);
    b->on_timer(now);
    net.pump(now);
  }
  // Live, lingering and ended calls, oldest first (an incoming call leaves
  // the live list as soon as it ends).
  std::vector<const Call*> all(UserAgent& ua) {
    auto out = ua.recent_calls();
    for (const Call* c : ua.calls()) out.push_back(c);
    std::sort(out.begin(), out.end(), [](const Call* x, const Call* y) { return std::stoi(x->id()) < std::stoi(y->id()); });
    return out;
  }
  const Call* only(UserAgent& ua) {
    auto calls = all(ua);
    return calls.size() == 1 ? calls[0] : nullptr;
  }
  std::string place_call() {
    auto id = a->call("sip:0322222222@[2001:db8::2]:5060", VpnRole::kClient, now);
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
    net.pump(now);
    return id ? *id : "";
  }
};

TEST_F(Pair, ForwardCallSettlesTheIkeTerms) {
  make();
  place_call();
  const Call* ac = only(*a);
  const Call* bc = only(*b);
  ASSERT_TRUE(ac && bc);
  EXPECT_EQ(ac->state(), Call::State::kEstablished);
  EXPECT_EQ(bc->state(), Call::State::kEstablished);
  // The caller learns the server's port (not 4500), role and certificate.
  ASSERT_TRUE(ac->ike_peer());
  EXPECT_EQ(ac->ike_peer()->address, "2001:db8::2");
  EXPECT_EQ(ac->ike_peer()->port, 22222);
  EXPECT_EQ(ac->ike_peer()->local_role, VpnRole::kClient);
  ASSERT_TRUE(ac->ike_peer()->server_cert);
  EXPECT_EQ(bc->ike_peer()->local_role, VpnRole::kServer);
  EXPECT_EQ(bc->ike_peer()->port, 4500);
  EXPECT_EQ(bc->peer_identity(), "sip:0311111111@example.ne.jp");
  // TS-1017 II.1.1: refresher=uas, 300 s.
  EXPECT_EQ(ac->timer().interval, 300u);
  EXPECT_FALSE(ac->timer().we_refresh);
  EXPECT_TRUE(bc->timer().we_refresh);
  EXPECT_EQ(net.count("INVITE "), 1u);
  EXPECT_EQ(net.count("SIP/2.0 200"), 1u);
  EXPECT_EQ(net.count("ACK "), 1u);
}

TEST_F(Pair, ByeFromEitherSide) {
  make();
  place_call();
  ASSERT_EQ(only(*a)->state(), Call::State::kEstablished);
  ASSERT_TRUE(b->hangup(only(*b)->id(), now));
  net.pump(now);
  EXPECT_EQ(only(*a)->end_reason(), "remote_bye");
  EXPECT_EQ(only(*b)->end_reason(), "local_hangup");

  place_call();
  ASSERT_EQ(all(*a).size(), 2u);
  const Call* second = all(*a)[1];
  ASSERT_TRUE(a->hangup(second->id(), now));
  net.pump(now);
  EXPECT_EQ(second->end_reason(), "local_hangup");
  EXPECT_EQ(all(*b)[1]->end_reason(), "remote_bye");
}

TEST_F(Pair, OfferTheCalleeCannotTakeIs488WithTheRule) {
  b_cfg.ike.caps.psk = false;  // password only
  a_cfg.ike.caps.password = false;
  a_cfg.ike.caps.psk = true;
  a_cfg.ike.psk_fingerprint = sha1_fingerprint("secret");
  make();
  place_call();
  EXPECT_EQ(only(*a)->end_reason(), "rejected_488");
  EXPECT_EQ(only(*b)->end_reason(), "sdp_rejected_psk_unsupported");
  EXPECT_EQ(b->counters().sdp_rejects[static_cast<int>(SdpReject::kPskUnsupported)], 1u);
  bool warned = false;
  for (const auto& p : net.log) warned |= p.data.find("Warning: 399") != std::string::npos &&
                                         p.data.find("TS-1017") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(Pair, CancelBeforeTheAnswer) {
  b_cfg.answer_delay = seconds(10);
  make();
  const std::string id = place_call();
  EXPECT_EQ(only(*a)->state(), Call::State::kProceeding);  // 180 Ringing came
  EXPECT_EQ(only(*b)->state(), Call::State::kIncoming);
  ASSERT_TRUE(a->hangup(id, now));
  net.pump(now);
  EXPECT_EQ(net.count("CANCEL "), 1u);
  EXPECT_EQ(net.count("SIP/2.0 487"), 1u);
  EXPECT_EQ(only(*a)->end_reason(), "cancelled");
  EXPECT_EQ(only(*b)->end_reason(), "cancelled_remote");
  advance(seconds(11));  // the answer time passes: nothing is answered any more
  EXPECT_EQ(net.count("SIP/2.0 200 OK\r\n"), 0u);
}

TEST_F(Pair, RefreshAtHalfTheIntervalKeepsTheSession) {
  make();
  place_call();
  advance(seconds(149));
  EXPECT_EQ(net.count("UPDATE "), 0u);
  advance(seconds(2));  // 151 s: the refresher (B, uas) sends UPDATE
  EXPECT_EQ(net.count("UPDATE "), 1u);
  EXPECT_EQ(b->counters().session_refreshes_sent, 1u);
  EXPECT_EQ(a->counters().session_refreshes_received, 1u);
  for (int i = 0; i < 10; ++i) advance(seconds(60));  // ten more minutes
  EXPECT_EQ(only(*a)->state(), Call::State::kEstablished);
  EXPECT_GE(net.count("UPDATE "), 4u);
}

TEST_F(Pair, MissingRefreshEndsTheSessionWithBye) {
  make();
  place_call();
  net.filter = [](const fake::Packet& p) { return p.data.rfind("UPDATE", 0) != 0; };
  // B refreshes at 150 s but the UPDATE is lost; A gives up at
  // 300 - min(32, 100) = 268 s.
  advance(seconds(267));
  EXPECT_EQ(only(*a)->state(), Call::State::kEstablished);
  advance(seconds(2));
  EXPECT_EQ(only(*a)->end_reason(), "session_expired");
  EXPECT_EQ(a->counters().sessions_expired, 1u);
  EXPECT_EQ(only(*b)->end_reason(), "remote_bye");
}

TEST_F(Pair, RefreshByReInviteWhenThePeerHasNoUpdate) {
  make();
  place_call();
  // Make B believe A never allowed UPDATE: strip it from what A sent.
  // (Done on a new call whose INVITE loses "UPDATE" from Allow.)
  net.filter = [](const fake::Packet&) { return true; };
  net.log.clear();
  auto id = a->call("sip:0322222222@[2001:db8::2]:5060", VpnRole::kClient, now);
  ASSERT_TRUE(id);
  for (auto& p : net.queue) {
    const auto at = p.data.find("Allow: INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS");
    if (at != std::string::npos) p.data.replace(at, 48, "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS        ");
  }
  net.pump(now);
  advance(seconds(151));
  EXPECT_EQ(net.count("INVITE "), 2u);  // the call and its refresh
  EXPECT_EQ(net.count("ACK "), 2u);
  EXPECT_EQ(all(*b)[1]->state(), Call::State::kEstablished);
}

TEST_F(Pair, TwoHundredRepeatedUntilTheAckThenByeWithout) {
  make();
  net.filter = [](const fake::Packet& p) { return p.data.rfind("ACK", 0) != 0; };
  place_call();
  EXPECT_EQ(only(*b)->state(), Call::State::kAnswered);
  for (int i = 0; i < 40; ++i) advance(seconds(1));
  // T1 doubling to T2 over 64*T1: 0.5+1+2+4+4+... about 10 copies; then BYE.
  EXPECT_GE(net.count("SIP/2.0 200 OK"), 8u);
  EXPECT_EQ(only(*b)->end_reason(), "no_ack");
  EXPECT_EQ(only(*a)->end_reason(), "remote_bye");
}

TEST_F(Pair, ForkedSecondAnswerIsAckedAndReleased) {
  make();
  place_call();
  // A copy of B's 200 with another To tag, as a second branch would send.
  std::string ok;
  for (const auto& p : net.log) {
    if (p.data.rfind("SIP/2.0 200", 0) == 0 && p.data.find("CSeq: 1 INVITE") != std::string::npos) ok = p.data;
  }
  ASSERT_FALSE(ok.empty());
  const auto tag = ok.find(";tag=", ok.find("\r\nTo: "));
  ok.replace(tag + 5, 12, "0f0f0f0f0f0f");
  a->receive(ok, b_ep, false, now);
  net.pump(now);
  EXPECT_EQ(a->counters().forked_answers_released, 1u);
  EXPECT_EQ(net.count("ACK "), 2u);
  EXPECT_EQ(net.count("BYE "), 1u);
  EXPECT_EQ(only(*a)->state(), Call::State::kEstablished);  // the first one stays
}

TEST_F(Pair, RequestsOutsideAnyDialog) {
  make();
  auto send = [&](const std::string& text) {
    b->receive(text, a_ep, false, now);
    net.pump(now);
    return net.start_lines().back();
  };
  const std::string common =
      "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK" + random_token(4) +
      "\r\nFrom: <sip:x@example.ne.jp>;tag=1\r\nCall-ID: abc\r\nMax-Forwards: 70\r\n";
  EXPECT_EQ(send("BYE sip:b@[2001:db8::2] SIP/2.0\r\n" + common +
                 "To: <sip:b@example.ne.jp>;tag=nope\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"),
            "SIP/2.0 481 Call/Transaction Does Not Exist");
  EXPECT_EQ(send("FOO sip:b@[2001:db8::2] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKf1\r\n"
                 "From: <sip:x@example.ne.jp>;tag=1\r\nCall-ID: abd\r\nTo: <sip:b@example.ne.jp>\r\n"
                 "CSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n"),
            "SIP/2.0 501 Not Implemented");
  EXPECT_EQ(send("MESSAGE sip:b@[2001:db8::2] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKf2\r\n"
                 "From: <sip:x@example.ne.jp>;tag=1\r\nCall-ID: abe\r\nTo: <sip:b@example.ne.jp>\r\n"
                 "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"),
            "SIP/2.0 405 Method Not Allowed");
  EXPECT_EQ(send("OPTIONS sip:b@[2001:db8::2] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKf3\r\n"
                 "From: <sip:x@example.ne.jp>;tag=1\r\nCall-ID: abf\r\nTo: <sip:b@example.ne.jp>\r\n"
                 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
            "SIP/2.0 200 OK");
  const size_t before = net.log.size();
  b->receive("garbage\r\n\r\n", a_ep, false, now);
  b->receive("INVITE sip:b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", a_ep, false, now);  // no Via
  EXPECT_EQ(net.log.size(), before);  // nothing answered
  EXPECT_EQ(b->stack_counters().rx_parse_errors + b->stack_counters().rx_malformed, 2u);
  EXPECT_EQ(b->counters().request_drops[static_cast<int>(RequestDrop::kNoDialog)], 1u);
  EXPECT_EQ(b->counters().request_drops[static_cast<int>(RequestDrop::kUnknownMethod)], 2u);
}

TEST_F(Pair, FloodFromOneSourceIsCutAtTheRate) {
  b_cfg.max_requests_per_second = 10;
  make();
  for (int i = 0; i < 50; ++i) {
    b->receive("OPTIONS sip:b@[2001:db8::2] SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKo" +
                   std::to_string(i) + "\r\nFrom: <sip:x@e>;tag=1\r\nCall-ID: o" + std::to_string(i) +
                   "\r\nTo: <sip:b@e>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
               a_ep, false, now);
  }
  net.pump(now);
  EXPECT_EQ(net.count("SIP/2.0 200"), 10u);
  EXPECT_EQ(b->counters().request_drops[static_cast<int>(RequestDrop::kRateLimited)], 40u);
}

// RFC 4028 §7.4: 422 names the callee's Min-SE; the caller asks again
// with it and the call goes through.
TEST_F(Pair, IntervalTooSmallIsRetriedWithTheMinimum) {
  b_cfg.timers.min_se = 1800;
  b_cfg.timers.session_expires = 1800;
  make();
  place_call();
  EXPECT_EQ(net.count("SIP/2.0 422"), 1u);
  EXPECT_EQ(net.count("INVITE "), 2u);
  ASSERT_EQ(only(*a)->state(), Call::State::kEstablished);
  EXPECT_EQ(only(*a)->timer().interval, 1800u);
}

// RFC 3261 §12.2.2: a request whose CSeq is not above the last one in the
// dialog is answered 500 and changes nothing.
TEST_F(Pair, OutOfOrderCseqInTheDialogIs500) {
  make();
  place_call();
  ASSERT_EQ(only(*b)->state(), Call::State::kEstablished);
  std::string invite, ok;
  for (const auto& p : net.log) {
    if (p.data.rfind("INVITE ", 0) == 0) invite = p.data;
    if (p.data.rfind("SIP/2.0 200", 0) == 0 && ok.empty()) ok = p.data;
  }
  // A BYE in the dialog (B's To tag) but with the INVITE's CSeq 1.
  const auto to_at = ok.find("\r\nTo: ") + 2;
  const std::string to_line = ok.substr(to_at, ok.find("\r\n", to_at) - to_at);
  std::string bye = invite.substr(0, invite.find("\r\n\r\n") + 4);
  bye.replace(0, bye.find(' '), "BYE");
  const auto old_to = bye.find("\r\nTo: ") + 2;
  bye.replace(old_to, bye.find("\r\n", old_to) - old_to, to_line);
  bye.replace(bye.find("CSeq: 1 INVITE"), 14, "CSeq: 1 BYE");
  bye.replace(bye.find("branch=z9hG4bK") + 14, 4, "0ut0");
  const auto len = bye.find("Content-Length:");
  bye.replace(len, bye.find("\r\n", len) - len, "Content-Length: 0");
  b->receive(bye, a_ep, false, now);
  net.pump(now);
  EXPECT_EQ(net.start_lines().back(), "SIP/2.0 500 Server Internal Error");
  EXPECT_EQ(b->counters().request_drops[static_cast<int>(RequestDrop::kCseqOrder)], 1u);
  EXPECT_EQ(only(*b)->state(), Call::State::kEstablished);
}

TEST_F(Pair, OversizedDatagramIsCountedNotParsed) {
  make();
  b->receive(std::string(100, 'x'), a_ep, /*truncated=*/true, now);
  EXPECT_EQ(b->stack_counters().rx_oversized, 1u);
  EXPECT_TRUE(net.log.empty());
}

TEST_F(Pair, TooManyCallsIsBusy) {
  b_cfg.max_calls = 1;
  make();
  place_call();
  place_call();
  EXPECT_EQ(all(*a)[1]->end_reason(), "rejected_486");
  EXPECT_EQ(b->counters().request_drops[static_cast<int>(RequestDrop::kTooManyCalls)], 1u);
}

}  // namespace
}  // namespace mapgw::sip
