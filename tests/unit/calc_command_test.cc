// `mapgwctl calc` output shape: the JSON keys are a published interface.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/cli/calc_command.h"

namespace mapgw {
namespace {

using nlohmann::json;

struct Run {
  int status;
  json j;
  std::string text;
  std::string err;
};

Run run(CalcArgs a) {
  std::ostringstream out, err;
  Run r;
  r.status = run_calc(a, out, err);
  r.text = out.str();
  r.err = err.str();
  if (a.json) {
    // Exactly one JSON object on one line.
    EXPECT_EQ(std::count(r.text.begin(), r.text.end(), '\n'), 1) << r.text;
    r.j = json::parse(r.text);
  }
  return r;
}

CalcArgs v6plus_args() {
  CalcArgs a;
  a.rules = {"ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4"};
  a.json = true;
  return a;
}

TEST(Calc, PrefixJsonShape) {
  auto a = v6plus_args();
  a.prefix = "240b:10:abcd:ef00::/56";
  auto r = run(a);
  ASSERT_EQ(r.status, 0) << r.text;
  for (const char* key : {"ipv4_address", "ipv4_prefix_len", "psid", "psid_len", "psid_offset",
                          "port_count", "port_ranges", "ce_ipv6_address", "rule"}) {
    EXPECT_TRUE(r.j.contains(key)) << key;
  }
  EXPECT_EQ(r.j["ipv4_address"], "106.72.171.205");
  EXPECT_EQ(r.j["ipv4_prefix_len"], 32);
  EXPECT_EQ(r.j["psid"], 0xef);
  EXPECT_EQ(r.j["psid_len"], 8);
  EXPECT_EQ(r.j["psid_offset"], 4);
  EXPECT_EQ(r.j["port_count"], 240);
  ASSERT_EQ(r.j["port_ranges"].size(), 15u);
  EXPECT_EQ(r.j["port_ranges"][0], json::array({7920, 7935}));
  EXPECT_EQ(r.j["ce_ipv6_address"], "240b:10:abcd:ef00:0:6a48:abcd:ef");
  EXPECT_EQ(r.j["rule"]["ipv6"], "240b:10::/31");
  EXPECT_EQ(r.j["rule"]["ea"], 25);
  EXPECT_EQ(r.j["rule"]["fmr"], false);
  a.legacy_iid = true;
  EXPECT_EQ(run(a).j["ce_ipv6_address"], "240b:10:abcd:ef00:6a:48ab:cd00:ef00");
}

TEST(Calc, PrefixWithoutPsid) {
  CalcArgs a;
  a.rules = {"ipv6=2001:db8:0012:3400::/56,ipv4=192.0.2.1/32,ea=0"};
  a.prefix = "2001:db8:12:3400::/56";
  a.json = true;
  auto r = run(a);
  ASSERT_EQ(r.status, 0);
  EXPECT_TRUE(r.j["psid"].is_null());
  EXPECT_EQ(r.j["psid_len"], 0);
  EXPECT_EQ(r.j["port_count"], 65536);
  EXPECT_EQ(r.j["port_ranges"], json::parse("[[0,65535]]"));
}

TEST(Calc, DstJsonShape) {
  auto a = v6plus_args();
  a.dst = "106.72.171.205:7920";
  auto r = run(a);
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.j["action"], "encapsulate");
  EXPECT_EQ(r.j["psid"], 0xef);
  EXPECT_EQ(r.j["end_user_prefix"], "240b:10:abcd:ef00::/56");
  EXPECT_EQ(r.j["ce_ipv6_address"], "240b:10:abcd:ef00:0:6a48:abcd:ef");
  EXPECT_EQ(r.j["reason"], "ok");
  a.dst = "106.72.171.205:80";
  r = run(a);
  ASSERT_EQ(r.status, 0);  // an answer, not an input error
  EXPECT_EQ(r.j["action"], "drop");
  EXPECT_EQ(r.j["reason"], "excluded_port");
  EXPECT_TRUE(r.j["psid"].is_null());
  EXPECT_TRUE(r.j["ce_ipv6_address"].is_null());
}

TEST(Calc, CheckSrcJsonShape) {
  auto a = v6plus_args();
  a.check_src = "240b:10:abcd:ef00:0:6a48:abcd:ef";
  a.inner_src = "106.72.171.205:7920";
  auto r = run(a);
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.j["action"], "accept");
  EXPECT_EQ(r.j["reason"], "ok");
  a.inner_src = "106.72.171.205:7936";  // PSID 0xf0
  r = run(a);
  EXPECT_EQ(r.j["action"], "drop");
  EXPECT_EQ(r.j["reason"], "wrong_psid");
}

TEST(Calc, Dhcpv6JsonShape) {
  CalcArgs a;
  a.json = true;
  a.dhcpv6_hex =
      "005e002d00590015011018c00002002820010db800005d000406000000"
      "005a001020010db8ffff00000000000000000001";
  auto r = run(a);
  ASSERT_EQ(r.status, 0) << r.text;
  ASSERT_EQ(r.j["rules"].size(), 1u);
  auto rule = r.j["rules"][0];
  EXPECT_EQ(rule, json::parse(R"({"ipv6":"2001:db8::/40","ipv4":"192.0.2.0/24","ea":16,
                                  "offset":6,"psidlen":8,"psid":null,"fmr":true})"));
  EXPECT_EQ(r.j["br"], json::parse(R"(["2001:db8:ffff::1"])"));
  EXPECT_EQ(r.j["ignored"], json::array());
}

struct BadInput {
  const char* name;
  CalcArgs args;
  const char* message_part;
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

class CalcBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CalcBadInput, ExitsTwoWithJsonError) {
  auto r = run(GetParam().args);
  EXPECT_EQ(r.status, 2);
  ASSERT_TRUE(r.j.contains("error"));
  EXPECT_EQ(r.j.size(), 1u);
  EXPECT_NE(r.j["error"].get<std::string>().find(GetParam().message_part), std::string::npos)
      << r.j.dump();
}

CalcArgs with(std::function<void(CalcArgs&)> f) {
  auto a = v6plus_args();
  f(a);
  return a;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CalcBadInput,
    ::testing::Values(
        BadInput{"no_mode", v6plus_args(), "exactly one of"},
        BadInput{"two_modes", with([](auto& a) { a.prefix = "240b:10::/56"; a.dst = "1.2.3.4:5"; }),
                 "exactly one of"},
        BadInput{"bad_rule", with([](auto& a) { a.rules = {"ipv6=x"}; a.prefix = "::/0"; }),
                 "--rule 1"},
        BadInput{"no_rule", with([](auto& a) { a.rules.clear(); a.prefix = "240b:10::/56"; }),
                 "at least one --rule"},
        BadInput{"bad_prefix", with([](auto& a) { a.prefix = "240b:10::/200"; }), "--prefix"},
        BadInput{"prefix_outside", with([](auto& a) { a.prefix = "2001:db8::/56"; }),
                 "outside every rule"},
        BadInput{"bad_dst", with([](auto& a) { a.dst = "106.72.1.1"; }), "IPV4:PORT"},
        BadInput{"bad_port", with([](auto& a) { a.dst = "106.72.1.1:70000"; }), "0..65535"},
        BadInput{"check_without_inner", with([](auto& a) { a.check_src = "240b:10::1"; }),
                 "--inner-src"},
        BadInput{"inner_without_check", with([](auto& a) {
                   a.prefix = "240b:10:abcd:ef00::/56";
                   a.inner_src = "1.2.3.4:5";
                 }),
                 "goes with --check-src"},
        BadInput{"bad_hex", with([](auto& a) { a.rules.clear(); a.dhcpv6_hex = "0z"; }),
                 "not a hex digit"},
        BadInput{"hex_with_rule", with([](auto& a) { a.dhcpv6_hex = "00"; }), "not used with"},
        BadInput{"truncated_hex", with([](auto& a) { a.rules.clear(); a.dhcpv6_hex = "005e0010"; }),
                 "claims 16 bytes"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Calc, TextOutputIsATableLikeTheBook) {
  CalcArgs a;
  a.rules = {"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,offset=4"};
  a.prefix = "2001:db8:12:fe00::/56";
  auto r = run(a);
  ASSERT_EQ(r.status, 0);
  // PSID 0xfe at a = 4: the book's table 4.1, first and last set.
  EXPECT_NE(r.text.find("    1  0x1fe0 (8160)    0x1fef (8175)"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("   15  0xffe0 (65504)   0xffef (65519)"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("240 in 15 ranges"), std::string::npos);
}

TEST(Calc, TextErrorGoesToStderr) {
  CalcArgs a;
  a.prefix = "2001:db8::/56";
  auto r = run(a);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.text.empty());
  EXPECT_NE(r.err.find("mapgwctl: calc needs at least one --rule"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mapgw
