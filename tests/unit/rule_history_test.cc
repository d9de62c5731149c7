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

// A history is informative: a bad line is skipped and reported, never a
// reason not to start (the attack run: a torn or wrongly typed line stopped
// or aborted the BR, and a domain without "rules" read out of bounds).
TEST(RuleHistory, BadLinesAreSkippedAndCounted) {
  const std::string path = ::testing::TempDir() + "/hist-bad-" + std::to_string(getpid());
  const std::string good =
      R"({"since_ms": 5, "domains": [{"name": "d", "br_address": "2001:db8:ffff::1", "rules": []}]})";
  {
    std::ofstream f(path);
    f << good << "\n";
    f << R"({"since_ms": 1, "domains": [{"name":"d","br_address":"zz","rules":[]}]})" << "\n";  // bad address
    f << R"({"since_ms": "1", "domains": []})" << "\n";                                         // since_ms a string
    f << R"({"since_ms": 1, "domains": [{"name": "d", "br_address": "2001:db8::1"}]})" << "\n";  // no rules
    f << R"({"since_ms": 1, "domains": [{"name": 5, "br_address": "2001:db8::1", "rules": 7}]})" << "\n";
    f << R"({"since_ms": 1, "domains": [{"br_address": "2001:db8::1", "rules": [5]}]})" << "\n";  // rule not an object
    f << R"({"since_ms": 1, "domains": 3})" << "\n";
    f << "[1, 2]\n";
    f << R"({"since_ms": 9, "domains": [{"na)";  // torn by a crash: no newline
  }
  auto h = RuleHistory::open(path);
  ASSERT_TRUE(h.ok()) << h.error().describe();
  EXPECT_EQ(h->size(), 1u);
  ASSERT_EQ(h->skipped().size(), 8u);
  EXPECT_NE(h->skipped()[0].find(":2:"), std::string::npos) << h->skipped()[0];
  // The next entry starts on a line of its own, after the torn one.
  ASSERT_TRUE(h->record(20000, domains("ipv6=2001:db8::/32,ipv4=192.0.2.0/24,ea=16")).ok());
  auto again = RuleHistory::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2u);
  EXPECT_EQ(again->skipped().size(), 8u);
  std::filesystem::remove(path);
}

// Floats that no date is made of: an error, not a float-to-integer
// overflow (undefined behaviour) and a nonsense date.
TEST(RuleHistory, UnixSecondsOutOfRangeAreErrors) {
  for (const char* t : {"@nan", "@-nan", "@inf", "@-inf", "@1e300", "@-1", "@253402300800"}) {
    EXPECT_FALSE(parse_time_ms(t).ok()) << t;
  }
  EXPECT_EQ(*parse_time_ms("@253402300799"), 253402300799000);
}

}  // namespace
}  // namespace mapgw
