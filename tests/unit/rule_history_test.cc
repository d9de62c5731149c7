// The BR's rule history and whois: answers by the rules in force at the
// asked time, across rule changes and across restarts (the file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/br/rule_history.h"

namespace mapgw {
namespace {

std::vector<DomainConfig> domains(const char* rule) {
  DomainConfig d;
  d.name = "d";
  d.br_address = *Ipv6Addr::parse("2001:db8:ffff::1");
  d.rules = {*MapRule::parse(rule)};
  return {d};
}

TEST(RuleHistory, WhoisFollowsTheRulesInForce) {
  const std::string path = ::testing::TempDir() + "/hist-" + std::to_string(getpid()) + ".jsonl";
  std::filesystem::remove(path);
  const int64_t t0 = *parse_time_ms("2026-11-01T00:00:00Z");
  const int64_t t1 = *parse_time_ms("2026-11-10T00:00:00Z");
  {
    auto h = RuleHistory::open(path);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(h->record(t0, domains("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16")).ok());
    ASSERT_TRUE(h->record(t0 + 5, domains("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16")).ok());
    EXPECT_EQ(h->size(), 1u) << "an unchanged rule set is not recorded twice";
    ASSERT_TRUE(h->record(t1, domains("ipv6=2001:db8:100::/40,ipv4=192.0.2.0/24,ea=16")).ok());
  }
  auto h = RuleHistory::open(path);  // as after a restart
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->size(), 2u);
  auto who = *Ipv4Endpoint::parse("192.0.2.18:1232");
  auto before = whois(*h, who, *parse_time_ms("2026-11-05T12:00:00+09:00"));
  EXPECT_EQ(before["found"], true);
  EXPECT_EQ(before["ce_ipv6_address"], "2001:db8:12:3400:0:c000:212:34");
  EXPECT_EQ(before["end_user_prefix"], "2001:db8:12:3400::/56");
  auto after = whois(*h, who, t1 + 1000);
  EXPECT_EQ(after["ce_ipv6_address"], "2001:db8:112:3400:0:c000:212:34");
  EXPECT_EQ(after["rules_since"], "2026-11-10T00:00:00.000Z");
  EXPECT_EQ(whois(*h, who, t0 - 1)["found"], false);
  EXPECT_EQ(whois(*h, *Ipv4Endpoint::parse("192.0.2.18:80"), t1 + 1)["reason"], "excluded_port");
  EXPECT_EQ(whois(*h, *Ipv4Endpoint::parse("198.51.100.1:5000"), t1 + 1)["reason"], "no_rule");
  std::filesystem::remove(path);
}

TEST(RuleHistory, TimeFormats) {
  EXPECT_EQ(*parse_time_ms("1970-01-01T00:00:10Z"), 10000);
  EXPECT_EQ(*parse_time_ms("1970-01-01T09:00:10+09:00"), 10000);
  EXPECT_EQ(*parse_time_ms("@10.5"), 10500);
  EXPECT_FALSE(parse_time_ms("yesterday").ok());
  EXPECT_FALSE(parse_time_ms("@ten").ok());
  EXPECT_EQ(format_time_ms(10500), "1970-01-01T00:00:10.500Z");
}

TEST(RuleHistory, CorruptFileIsAnErrorNotACrash) {
  const std::string path = ::testing::TempDir() + "/hist-bad-" + std::to_string(getpid());
  {
    std::ofstream(path) << "{\"since_ms\": 1, \"domains\": [{\"name\":\"d\",\"br_address\":\"zz\",\"rules\":[]}]}\n";
  }
  auto h = RuleHistory::open(path);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find(":1:"), std::string::npos) << h.error().message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mapgw
