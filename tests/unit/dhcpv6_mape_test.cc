// RFC 7598 option parsing. Buffers are encoded by hand from the RFC 7598
// figures (§4.1 S46_RULE, §4.2 S46_BR, §4.5 PORTPARAMS, §5.1 CONT_MAPE),
// byte by byte, so the parser is checked against the wire layout and not
// against an encoder of ours.
#include <gtest/gtest.h>

#include "agent/map/dhcpv6_mape.h"

namespace mapgw {
namespace {

std::vector<uint8_t> hex(const char* text) {
  auto b = parse_hex(text);
  EXPECT_TRUE(b.ok()) << b.error().message;
  return *b;
}

// CONT_MAPE(45) { RULE(21) {F, ea 16, /24 192.0.2.0, /40 2001:db8:00,
//                 PORTPARAMS(4) {offset 6, psid-len 0, psid 0}},
//                 BR(16) 2001:db8:ffff::1 }
constexpr const char* kRfcExample =
    "005e002d"
    "00590015" "01" "10" "18" "c0000200" "28" "20010db800" "005d0004" "06" "00" "0000"
    "005a0010" "20010db8ffff00000000000000000001";

TEST(Dhcpv6MapE, ParsesRuleWithFmrFlagAndBr) {
  auto p = parse_dhcpv6_mape(hex(kRfcExample));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->rules.size(), 1u);
  const auto& r = p->rules[0];
  EXPECT_EQ(r.ipv6_prefix().str(), "2001:db8::/40");
  EXPECT_EQ(r.ipv4_prefix().str(), "192.0.2.0/24");
  EXPECT_EQ(r.ea_len(), 16u);
  EXPECT_EQ(r.psid_offset(), 6u);
  EXPECT_EQ(r.psid_len(), 8u);
  EXPECT_TRUE(r.fmr());
  ASSERT_EQ(p->brs.size(), 1u);
  EXPECT_EQ(p->brs[0].str(), "2001:db8:ffff::1");
  EXPECT_TRUE(p->ignored.empty());
}

// Two rules: a v6plus-shaped one (offset 4, PSID length 8 agreeing with the
// EA bits) and RFC 7597 Example 5 with PSID 0x20 *left-aligned* (0x2000).
constexpr const char* kTwoRules =
    "005e0047"
    "00590014" "00" "19" "0f" "6a480000" "1f" "240b0010" "005d0004" "04" "08" "0000"
    "00590017" "00" "00" "20" "c0000201" "38" "20010db8001234" "005d0004" "06" "08" "2000"
    "005a0010" "20010db8ffff00000000000000000001";

TEST(Dhcpv6MapE, PortParamsPsidIsLeftAligned) {
  auto p = parse_dhcpv6_mape(hex(kTwoRules));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->rules.size(), 2u);
  EXPECT_EQ(p->rules[0].ipv6_prefix().str(), "240b:10::/31");
  EXPECT_EQ(p->rules[0].ipv4_prefix().str(), "106.72.0.0/15");
  EXPECT_EQ(p->rules[0].psid_offset(), 4u);
  EXPECT_EQ(p->rules[0].psid_len(), 8u);
  EXPECT_FALSE(p->rules[0].fmr());
  EXPECT_EQ(p->rules[1].provisioned_psid(), 0x20);
  EXPECT_EQ(p->rules[1].psid_len(), 8u);
  EXPECT_EQ(p->rules[1].ipv6_prefix().str(), "2001:db8:12:3400::/56");
}

TEST(Dhcpv6MapE, ReportsWhatItIgnores) {
  // Top level: OPTION_DNS_SERVERS (23) before the container; inside: a DMR
  // (MAP-T only), a stray PORTPARAMS and an unknown option 200.
  const char* buf =
      "00170010" "20010db8000000000000000000000053"
      "005e0042"
      "00590015" "01" "10" "18" "c0000200" "28" "20010db800" "005d0004" "06" "00" "0000"
      "005a0010" "20010db8ffff00000000000000000001"
      "005b0005" "20010db8ff"
      "005d0004" "06000000"
      "00c80000";
  auto p = parse_dhcpv6_mape(hex(buf));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->ignored.size(), 4u);
  EXPECT_NE(p->ignored[0].find("option 23"), std::string::npos) << p->ignored[0];
  EXPECT_NE(p->ignored[1].find("MAP-T"), std::string::npos) << p->ignored[1];
  EXPECT_NE(p->ignored[2].find("inside OPTION_S46_RULE"), std::string::npos) << p->ignored[2];
  EXPECT_NE(p->ignored[3].find("option 200"), std::string::npos) << p->ignored[3];
}

TEST(Dhcpv6MapE, OnlyTheFirstContainerIsUsed) {
  std::string two = std::string(kRfcExample) + kRfcExample;
  auto p = parse_dhcpv6_mape(hex(two.c_str()));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->rules.size(), 1u);
  ASSERT_EQ(p->ignored.size(), 1u);
  EXPECT_NE(p->ignored[0].find("only the first"), std::string::npos);
}

struct Malformed {
  const char* name;
  const char* hex;
  const char* message_part;
};

void PrintTo(const Malformed& c, std::ostream* os) { *os << c.name; }

class Dhcpv6Rejects : public ::testing::TestWithParam<Malformed> {};

TEST_P(Dhcpv6Rejects, WithAClearError) {
  auto p = parse_dhcpv6_mape(hex(GetParam().hex));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(GetParam().message_part), std::string::npos)
      << p.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Dhcpv6Rejects,
    ::testing::Values(
        Malformed{"container_longer_than_buffer", "005e00ff00590015", "claims 255 bytes"},
        Malformed{"truncated_header", "005e00", "truncated option header"},
        Malformed{"no_container", "00170010" "20010db8000000000000000000000053",
                  "no OPTION_S46_CONT_MAPE"},
        Malformed{"missing_br",
                  "005e0019" "00590015" "01" "10" "18" "c0000200" "28" "20010db800"
                  "005d0004" "06" "00" "0000",
                  "no OPTION_S46_BR"},
        Malformed{"missing_rule", "005e0014" "005a0010" "20010db8ffff00000000000000000001",
                  "no OPTION_S46_RULE"},
        Malformed{"br_wrong_length", "005e0013" "005a000f" "20010db8ffff000000000000000000",
                  "must be 16 bytes"},
        Malformed{"rule_shorter_than_fixed_part", "005e000a" "00590006" "011018c00002",
                  "fixed part alone is 8"},
        Malformed{"prefix6_bytes_missing", "005e000f" "0059000b" "01" "10" "18" "c0000200" "28"
                  "20010d",
                  "needs 5 prefix bytes"},
        Malformed{"prefix4_len_33", "005e000d" "00590009" "01" "10" "21" "c0000200" "00" "00",
                  "prefix4-len 33"},
        Malformed{"prefix6_len_129", "005e000c" "00590008" "01" "10" "18" "c0000200" "81",
                  "prefix6-len 129"},
        Malformed{"ea_len_49",
                  "005e0025" "0059000d" "00" "31" "18" "c0000200" "28" "20010db800"
                  "005a0010" "20010db8ffff00000000000000000001",
                  "EA-bits length must be 0..48"},
        Malformed{"portparams_3_bytes",
                  "005e002c" "00590014" "01" "10" "18" "c0000200" "28" "20010db800"
                  "005d0003" "060000"
                  "005a0010" "20010db8ffff00000000000000000001",
                  "PORTPARAMS must be 4 bytes"},
        Malformed{"portparams_offset_16",
                  "005e002d" "00590015" "01" "10" "18" "c0000200" "28" "20010db800"
                  "005d0004" "10" "00" "0000"
                  "005a0010" "20010db8ffff00000000000000000001",
                  "offset 16"},
        Malformed{"suboption_overruns_rule",
                  "005e002d" "00590015" "01" "10" "18" "c0000200" "28" "20010db800"
                  "005d0009" "06" "00" "0000"
                  "005a0010" "20010db8ffff00000000000000000001",
                  "claims 9 bytes"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Dhcpv6MapE, EveryTruncationIsRejectedNotCrashed) {
  auto full = hex(kTwoRules);
  for (size_t len = 1; len < full.size(); ++len) {
    auto p = parse_dhcpv6_mape(std::span<const uint8_t>(full.data(), len));
    EXPECT_FALSE(p.ok()) << "accepted a buffer cut to " << len << " bytes";
  }
}

TEST(Dhcpv6MapE, EveryByteValueAtEveryPositionIsHandled) {
  // Not a proof, but cheap: 256 values at each of the ~80 positions must
  // yield a value or an error, never a crash or an exception.
  auto full = hex(kTwoRules);
  size_t accepted = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (int v = 0; v < 256; ++v) {
      auto copy = full;
      copy[i] = static_cast<uint8_t>(v);
      auto p = parse_dhcpv6_mape(copy);
      if (p.ok()) {
        ++accepted;
        EXPECT_FALSE(p->rules.empty());
        EXPECT_FALSE(p->brs.empty());
      }
    }
  }
  EXPECT_GT(accepted, 0u);
}

TEST(ParseHex, AcceptsSeparatorsRejectsJunk) {
  EXPECT_EQ(*parse_hex("00:5E 2d"), (std::vector<uint8_t>{0x00, 0x5e, 0x2d}));
  EXPECT_FALSE(parse_hex("0g").ok());
  EXPECT_FALSE(parse_hex("abc").ok());
  EXPECT_FALSE(parse_hex("").ok());
}

}  // namespace
}  // namespace mapgw
