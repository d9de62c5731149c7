// The registration usage against a registrar played by the test (it reads
// what the user agent sends and answers with libosip2-built responses),
// with injected time: the digest round, the refresh before expiry, the
// back-off after failures, 423, and the un-REGISTER on stop.
#include <gtest/gtest.h>
#include <osipparser2/osip_parser.h>

#include "fake_net.h"
#include "sip/messages.h"

namespace mapgw::sip {
namespace {

using fake::FakeNet;
using fake::FakeSink;
using std::chrono::seconds;

struct RegistrarTest : ::testing::Test {
  FakeNet net;
  Endpoint ua_ep = *Endpoint::parse("2001:db8::11", 5060);
  Endpoint registrar = *Endpoint::parse("2001:db8::1", 5060);
  FakeSink sink{net, ua_ep};
  UaConfig cfg;
  std::unique_ptr<UserAgent> ua;
  TimePoint now = TimePoint(seconds(5000));

  void SetUp() override {
    cfg.aor = "sip:0311111111@example.ne.jp";
    cfg.password = "secret";
    cfg.registrar = "sip:example.ne.jp";
    cfg.outbound_proxy = registrar;
    cfg.register_expires = 3600;
    cfg.register_retry_min = seconds(30);
    cfg.register_retry_max = seconds(100);
  }
  void start() {
    ua = std::move(UserAgent::create(cfg, sink).value());
    ua->start(now);
  }
  // The next REGISTER the user agent sent (parsed), or null; its text in
  // last_text (Authorization is a header libosip2 keeps apart).
  std::string last_text;
  MessagePtr next_register() {
    while (!net.queue.empty()) {
      auto p = net.queue.front();
      net.queue.pop_front();
      osip_message_t* m = nullptr;
      osip_message_init(&m);
      if (osip_message_parse(m, p.data.data(), p.data.size()) == 0 && MSG_IS_REGISTER(m)) {
        last_text = p.data;
        return MessagePtr(m);
      }
      osip_message_free(m);
    }
    last_text.clear();
    return nullptr;
  }
  bool sent_with(const std::string& what) const { return last_text.find(what) != std::string::npos; }
  void answer(const osip_message_t* req, int code, const HeaderList& h = {}) {
    auto r = build_response(req, code, "reg", h).value();
    char* text = nullptr;
    size_t len = 0;
    osip_message_to_str(r.get(), &text, &len);
    const std::string wire = take_osip_string(text);
    ua->receive(wire, registrar, false, now);
  }
  std::string state() { return ua->registration()->state_name(); }
  void advance_to(TimePoint t) {
    now = t;
    ua->on_timer(now);
  }
};

TEST_F(RegistrarTest, DigestThenRefreshAMinuteBeforeExpiry) {
  start();
  auto r1 = next_register();
  ASSERT_TRUE(r1);
  EXPECT_FALSE(sent_with("Authorization:"));
  EXPECT_EQ(header_value(r1.get(), "Expires"), "3600");
  answer(r1.get(), 401, {{"WWW-Authenticate", "Digest realm=\"example.ne.jp\", nonce=\"n1\", qop=\"auth\""}});
  auto r2 = next_register();
  ASSERT_TRUE(r2);
  EXPECT_TRUE(sent_with("Authorization: Digest username=\"0311111111\", realm=\"example.ne.jp\""));
  EXPECT_TRUE(sent_with("nc=00000001"));
  EXPECT_EQ(call_id_of(r2.get()), call_id_of(r1.get()));  // one Call-ID per registration
  EXPECT_EQ(cseq_of(r2.get()), cseq_of(r1.get()) + 1);
  answer(r2.get(), 200, {{"Expires", "600"}});
  EXPECT_EQ(state(), "registered");
  EXPECT_EQ(ua->registration()->granted_expires(), 600u);
  advance_to(now + seconds(539));
  EXPECT_FALSE(next_register());
  advance_to(now + seconds(1));  // 600 - 60
  auto r3 = next_register();
  ASSERT_TRUE(r3);
  // The refresh reuses the nonce with the next count.
  EXPECT_TRUE(sent_with("nc=00000002"));
}

TEST_F(RegistrarTest, WrongPasswordIsAnAuthFailureWithDoublingBackOff) {
  start();
  const HeaderList challenge = {{"WWW-Authenticate", "Digest realm=\"example.ne.jp\", nonce=\"n1\""}};
  auto r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 401, challenge);
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 401, {{"WWW-Authenticate", "Digest realm=\"example.ne.jp\", nonce=\"n2\""}});
  EXPECT_EQ(state(), "retry_wait");
  EXPECT_EQ(ua->counters().auth_failures, 1u);
  EXPECT_EQ(ua->registration()->current_backoff(), seconds(30));
  EXPECT_NE(ua->registration()->last_error().find("refused"), std::string::npos);
  advance_to(now + seconds(30));
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 503);
  EXPECT_EQ(ua->registration()->current_backoff(), seconds(60));
  advance_to(now + seconds(60));
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 503);
  EXPECT_EQ(ua->registration()->current_backoff(), seconds(100));  // capped
  // A stale nonce is not a refusal: the same credentials again.
  advance_to(now + seconds(100));
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 401, challenge);
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 401, {{"WWW-Authenticate", "Digest realm=\"example.ne.jp\", nonce=\"n3\", stale=true"}});
  r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 200);
  EXPECT_EQ(state(), "registered");
  EXPECT_EQ(ua->registration()->granted_expires(), 3600u);  // none granted: what we asked
}

TEST_F(RegistrarTest, IntervalTooBriefTakesTheMinimum) {
  cfg.register_expires = 60;
  start();
  auto r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 423, {{"Min-Expires", "300"}});
  r = next_register();
  ASSERT_TRUE(r);
  EXPECT_EQ(header_value(r.get(), "Expires"), "300");
}

TEST_F(RegistrarTest, StopRemovesTheBinding) {
  start();
  auto r = next_register();
  ASSERT_TRUE(r);
  answer(r.get(), 200);
  ua->stop(now);
  r = next_register();
  ASSERT_TRUE(r);
  EXPECT_EQ(header_value(r.get(), "Expires"), "0");
  EXPECT_EQ(state(), "unregistering");
  answer(r.get(), 200);
  EXPECT_EQ(state(), "stopped");
}

}  // namespace
}  // namespace mapgw::sip
