// RFC 4028 decisions, one row per rule with its section.
#include "sip/session_timer.h"

#include <gtest/gtest.h>

#include "sip/dialog.h"

namespace mapgw::sip {
namespace {

SessionTimerHeaders req(std::optional<uint32_t> se, std::optional<Refresher> who, bool supported,
                        std::optional<uint32_t> min_se = std::nullopt) {
  SessionTimerHeaders h;
  h.session_expires = se;
  h.refresher = who;
  h.supported_timer = supported;
  h.min_se = min_se;
  return h;
}

TEST(SessionTimer, ParsesTheHeader) {
  auto v = parse_session_expires("300;refresher=uas");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->first, 300u);
  EXPECT_EQ(v->second, Refresher::kUas);
  EXPECT_EQ(parse_session_expires(" 1800 ; Refresher=UAC")->second, Refresher::kUac);
  EXPECT_FALSE(parse_session_expires("soon"));
  EXPECT_FALSE(parse_session_expires("99999999999"));
}

TEST(SessionTimer, UasRules) {
  SessionTimerConfig cfg;  // 300 s, Min-SE 90, uas refreshes
  // TS-1017 II.1.1: "Supported: timer, Session-Expires: 300" -> 300;refresher=uas, Require.
  auto d = uas_session_timer(cfg, req(300, std::nullopt, true));
  EXPECT_EQ(d.reject, 0);
  EXPECT_EQ(d.session_expires_header, "300;refresher=uas");
  EXPECT_TRUE(d.require_timer);
  EXPECT_TRUE(d.terms.we_refresh);
  // §8.1: below our Min-SE -> 422 with it.
  cfg.min_se = 600;
  cfg.session_expires = 1800;
  d = uas_session_timer(cfg, req(300, std::nullopt, true));
  EXPECT_EQ(d.reject, 422);
  EXPECT_EQ(d.min_se, 600u);
  // §9: the UAS may shorten a long interval, not below the Min-SE.
  cfg.min_se = 90;
  cfg.session_expires = 300;
  d = uas_session_timer(cfg, req(7200, Refresher::kUac, true, 120));
  EXPECT_EQ(d.terms.interval, 300u);
  EXPECT_FALSE(d.terms.we_refresh);  // the UAC asked to refresh
  EXPECT_EQ(d.session_expires_header, "300;refresher=uac");
  // §9: a UAC without the extension cannot refresh: the UAS does, no Require.
  d = uas_session_timer(cfg, req(std::nullopt, std::nullopt, false));
  EXPECT_EQ(d.session_expires_header, "300;refresher=uas");
  EXPECT_FALSE(d.require_timer);
  EXPECT_TRUE(d.terms.we_refresh);
}

TEST(SessionTimer, UacRules) {
  SessionTimerConfig cfg;
  SessionTimerHeaders r;
  // §7.2: no Session-Expires in the 2xx: we may refresh ourselves.
  auto t = uac_session_timer(cfg, 300, r);
  EXPECT_EQ(t.interval, 300u);
  EXPECT_TRUE(t.we_refresh);
  r.session_expires = 600;
  r.refresher = Refresher::kUas;
  t = uac_session_timer(cfg, 300, r);
  EXPECT_EQ(t.interval, 600u);
  EXPECT_FALSE(t.we_refresh);
}

TEST(SessionTimer, Deadlines) {
  // §10: refresh at half; give up at interval - min(32, interval/3).
  EXPECT_EQ((SessionTimerTerms{300, true}.deadline()), std::chrono::seconds(150));
  EXPECT_EQ((SessionTimerTerms{300, false}.deadline()), std::chrono::seconds(268));
  EXPECT_EQ((SessionTimerTerms{90, false}.deadline()), std::chrono::seconds(60));
}

// RFC 3261 §12.2.1.1: loose routes keep the target in the Request-URI; a
// strict router's URI takes its place and the target goes last.
TEST(DialogRouting, LooseAndStrict) {
  class Sink : public DatagramSink {
   public:
    Status send(const Endpoint&, std::string_view) override { return Status::Ok(); }
    Endpoint local_for(const Endpoint&) const override { return *Endpoint::parse("2001:db8::11", 5060); }
  } sink;
  struct Nobody : StackListener {
    void on_request(osip_transaction_t*, osip_message_t*, const Endpoint&) override {}
    void on_stray_response(osip_message_t*, const Endpoint&) override {}
  } nobody;
  auto stack = SipStack::create(sink, nobody).value();
  UaConfig cfg;
  cfg.aor = "sip:a@example.ne.jp";
  UaCounters counters;
  UaCore core{*stack, sink, cfg, counters};
  Dialog d;
  d.remote_target = "sip:b@[2001:db8::22]:5070";
  d.route_set = {"<sip:[2001:db8::1];lr>", "<sip:[2001:db8::2];lr>"};
  auto loose = d.request(core, "BYE").value();
  EXPECT_EQ(loose.spec.request_uri, "sip:b@[2001:db8::22]:5070");
  EXPECT_EQ(loose.spec.routes.size(), 2u);
  EXPECT_EQ(loose.next_hop.str(), "[2001:db8::1]:5060");
  d.route_set = {"<sip:[2001:db8::1]:5062>", "<sip:[2001:db8::2];lr>"};
  auto strict = d.request(core, "BYE").value();
  EXPECT_EQ(strict.spec.request_uri, "sip:[2001:db8::1]:5062");
  ASSERT_EQ(strict.spec.routes.size(), 2u);
  EXPECT_EQ(strict.spec.routes.back(), "<sip:b@[2001:db8::22]:5070>");
  EXPECT_EQ(strict.next_hop.str(), "[2001:db8::1]:5062");
  EXPECT_EQ(strict.spec.cseq, loose.spec.cseq + 1);
}

}  // namespace
}  // namespace mapgw::sip
