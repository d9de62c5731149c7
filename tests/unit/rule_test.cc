// Rule parsing and validation: every rejection must say what is wrong.
#include <gtest/gtest.h>

#include "agent/map/rule.h"

namespace mapgw {
namespace {

struct BadRule {
  const char* text;
  const char* message_part;  // must appear in the error
};

void PrintTo(const BadRule& c, std::ostream* os) { *os << c.text; }

class RuleRejects : public ::testing::TestWithParam<BadRule> {};

TEST_P(RuleRejects, WithAPreciseMessage) {
  auto r = MapRule::parse(GetParam().text);
  ASSERT_FALSE(r.ok()) << GetParam().text << " was accepted";
  EXPECT_NE(r.error().message.find(GetParam().message_part), std::string::npos)
      << "message was: " << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Validation, RuleRejects,
    ::testing::Values(
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=49", "EA-bits length must be 0..48"},
        BadRule{"ipv6=2001:db8::/96,ipv4=0.0.0.0/0,ea=40", "more than an IPv6 address"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,offset=9", "more than the 16-bit port"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,offset=16", "PSID offset must be 0..15"},
        BadRule{"ipv6=2001:db8::/32,ipv4=192.0.2.0/24,ea=25", "a PSID has at most 16 bits"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,psidlen=6", "contradicts the EA bits"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,psid=3", "comes from the EA bits"},
        BadRule{"ipv6=2001:db8::/40,ipv4=10.0.0.0/8,ea=16,psidlen=4,psid=1", "not shared by port"},
        BadRule{"ipv6=2001:db8:12:3400::/56,ipv4=192.0.2.1/32,ea=0,psidlen=8", "needs psid="},
        BadRule{"ipv6=2001:db8:12:3400::/56,ipv4=192.0.2.1/32,ea=0,psid=3", "needs psidlen="},
        BadRule{"ipv6=2001:db8:12:3400::/56,ipv4=192.0.2.1/32,ea=0,psidlen=4,psid=16",
                "does not fit in psidlen=4"},
        BadRule{"ipv6=2001:db8::1/40,ipv4=192.0.2.0/24,ea=16", "did you mean 2001:db8::/40"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.1/24,ea=16", "did you mean 192.0.2.0/24"},
        BadRule{"ipv6=2001:db8::/129,ipv4=192.0.2.0/24,ea=16", "prefix length"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/33,ea=16", "prefix length"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24", "lacks ea="},
        BadRule{"ipv4=192.0.2.0/24,ea=16", "lacks ipv6="},
        BadRule{"ipv6=2001:db8::/40,ea=16", "lacks ipv4="},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,colour=red", "unknown rule key"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,ea=8", "given twice"},
        BadRule{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=sixteen", "expected an integer"},
        BadRule{"ipv6=zz::/40,ipv4=192.0.2.0/24,ea=16", "not an IPv6 address"}));

TEST(Rule, ParsesTheCalcSyntaxAndRoundTrips) {
  auto r = MapRule::parse("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,offset=4,fmr");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ipv6_prefix().str(), "2001:db8::/40");
  EXPECT_EQ(r->ipv4_prefix().str(), "192.0.2.0/24");
  EXPECT_EQ(r->ea_len(), 16u);
  EXPECT_EQ(r->psid_offset(), 4u);
  EXPECT_EQ(r->psid_len(), 8u);  // o - p = 16 - 8
  EXPECT_TRUE(r->fmr());
  EXPECT_TRUE(r->psid_in_ea());
  auto again = MapRule::parse(r->str());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->str(), r->str());
}

TEST(Rule, DefaultOffsetIsSix) {
  auto r = MapRule::parse("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->psid_offset(), 6u);
  EXPECT_FALSE(r->fmr());
}

TEST(Rule, ExplicitPsidLenThatAgreesIsAccepted) {
  EXPECT_TRUE(MapRule::parse("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,psidlen=8").ok());
}

TEST(Rule, HexPsidIsAccepted) {
  auto r = MapRule::parse("ipv6=2001:db8:12:3400::/56,ipv4=192.0.2.1/32,ea=0,psidlen=8,psid=0x20");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->provisioned_psid(), 0x20);
}

TEST(RuleSet, RejectsAmbiguousRules) {
  auto a = MapRule::parse("ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16");
  auto b = MapRule::parse("ipv6=2001:db8:100::/40,ipv4=192.0.2.0/24,ea=16");
  auto c = MapRule::parse("ipv6=2001:db8::/40,ipv4=198.51.100.0/24,ea=16");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto s1 = RuleSet::create({*a, *b});
  ASSERT_FALSE(s1.ok());
  EXPECT_NE(s1.error().message.find("share the IPv4 prefix 192.0.2.0/24"), std::string::npos);
  auto s2 = RuleSet::create({*a, *c});
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.error().message.find("share the IPv6 prefix"), std::string::npos);
}

TEST(RuleSet, LongestMatchWins) {
  auto wide = MapRule::parse("ipv6=2001:db8::/32,ipv4=192.0.0.0/16,ea=24");
  auto narrow = MapRule::parse("ipv6=2001:db8:ff00::/40,ipv4=192.0.2.0/24,ea=16,fmr");
  ASSERT_TRUE(wide.ok() && narrow.ok()) << wide.error().message;
  auto set = RuleSet::create({*wide, *narrow});
  ASSERT_TRUE(set.ok());
  auto v4 = Ipv4Addr::parse("192.0.2.9");
  EXPECT_EQ(set->match_ipv4(*v4)->ipv4_prefix().len, 24);
  EXPECT_EQ(set->match_ipv4(*Ipv4Addr::parse("192.0.3.9"))->ipv4_prefix().len, 16);
  EXPECT_EQ(set->match_ipv4(*Ipv4Addr::parse("192.0.3.9"), /*fmr_only=*/true), nullptr);
  auto eup = Ipv6Prefix::parse("2001:db8:ff12::/48");
  EXPECT_EQ(set->match_end_user(*eup)->ipv6_prefix().len, 40);
  EXPECT_EQ(set->match_end_user(*Ipv6Prefix::parse("2001:db8:1::/48"))->ipv6_prefix().len, 32);
  EXPECT_EQ(set->match_end_user(*Ipv6Prefix::parse("2001:db9::/48")), nullptr);
}

}  // namespace
}  // namespace mapgw
