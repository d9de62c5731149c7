// CE derivation, BR lookup and the receive check against published vectors
// (RFC 7597 Appendix A, the v6plus book §4.3-4.4) and hand-computed ones
// for the shapes the examples do not cover. Expected values are written out
// literally; none is computed with the code under test.
#include <gtest/gtest.h>

#include "agent/map/mapping.h"

namespace mapgw {
namespace {

RuleSet rules(std::initializer_list<const char*> texts, bool legacy = false) {
  std::vector<MapRule> out;
  for (const char* t : texts) {
    auto spec = RuleSpec::parse(t);
    EXPECT_TRUE(spec.ok()) << t << ": " << spec.error().message;
    spec->legacy_iid = legacy;
    auto r = MapRule::create(*spec);
    EXPECT_TRUE(r.ok()) << t << ": " << r.error().message;
    out.push_back(*r);
  }
  auto set = RuleSet::create(out);
  EXPECT_TRUE(set.ok());
  return *set;
}

CeMapping ce(const RuleSet& set, const char* prefix) {
  auto p = Ipv6Prefix::parse(prefix);
  EXPECT_TRUE(p.ok()) << prefix;
  auto m = derive_ce(set, *p);
  EXPECT_TRUE(m.ok()) << prefix << ": " << m.error().message;
  return *m;
}

constexpr const char* kRfcBmr = "ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16";

// RFC 7597 App. A Example 1; also the book's §4.4 example, whose text says
// PSID "34" -- the bits are 0x34, i.e. 52 decimal (erratum).
TEST(DeriveCe, Rfc7597Example1AndBookSection44) {
  auto m = ce(rules({kRfcBmr}), "2001:db8:0012:3400::/56");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.18");
  EXPECT_EQ(m.ipv4_prefix_len, 32u);
  ASSERT_TRUE(m.psid.has_value());
  EXPECT_EQ(*m.psid, 0x34);
  EXPECT_EQ(*m.psid, 52);
  EXPECT_EQ(m.ports.psid_len(), 8u);
  EXPECT_EQ(m.ports.offset(), 6u);
  auto r = m.ports.ranges();
  ASSERT_EQ(r.size(), 63u);  // "Available ports (63 ranges)"
  EXPECT_EQ(r.front(), (PortRange{1232, 1235}));
  EXPECT_EQ(r[1], (PortRange{2256, 2259}));
  EXPECT_EQ(r[61], (PortRange{63696, 63699}));
  EXPECT_EQ(r.back(), (PortRange{64720, 64723}));
  EXPECT_EQ(m.ports.size(), 252u);
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3400:0:c000:212:34");
}

// RFC 7597 App. A Examples 2 and 3: BR, and a CE via FMR, send to
// 192.0.2.18:1232.
TEST(BrLookup, Rfc7597Examples2And3) {
  auto set = rules({"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16,fmr"});
  auto r = br_lookup(set, *Ipv4Endpoint::parse("192.0.2.18:1232"));
  ASSERT_TRUE(r.encapsulate) << r.detail;
  EXPECT_EQ(r.reason, "ok");
  EXPECT_EQ(r.psid, 0x34);
  EXPECT_EQ(r.ce_address->str(), "2001:db8:12:3400:0:c000:212:34");
  EXPECT_EQ(r.end_user_prefix->str(), "2001:db8:12:3400::/56");
}

// Example 4: no EA bits, no sharing.
TEST(DeriveCe, Rfc7597Example4FullAddressNoSharing) {
  auto m = ce(rules({"ipv6=2001:db8:0012:3400::/56,ipv4=192.0.2.1/32,ea=0"}),
              "2001:db8:0012:3400::/56");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.1");
  EXPECT_FALSE(m.psid.has_value());
  EXPECT_EQ(m.ports.size(), 65536u);
  EXPECT_EQ(m.ports.ranges(), (std::vector<PortRange>{{0, 65535}}));
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3400:0:c000:201:0");
}

// Example 5: o = 0 with PSID length and PSID provisioned (0x20).
TEST(DeriveCe, Rfc7597Example5ProvisionedPsid) {
  auto set = rules({"ipv6=2001:db8:0012:3400::/56,ipv4=192.0.2.1/32,ea=0,psidlen=8,psid=0x20"});
  auto m = ce(set, "2001:db8:0012:3400::/56");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.1");
  EXPECT_EQ(m.psid, 0x20);
  auto r = m.ports.ranges();
  ASSERT_EQ(r.size(), 63u);
  EXPECT_EQ(r.front(), (PortRange{1152, 1155}));  // 1*1024 + 0x20*4
  EXPECT_EQ(r.back(), (PortRange{64640, 64643}));
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3400:0:c000:201:20");
  // The BR can only serve ports of the provisioned PSID.
  auto ok = br_lookup(set, *Ipv4Endpoint::parse("192.0.2.1:1153"));
  EXPECT_TRUE(ok.encapsulate);
  EXPECT_EQ(ok.ce_address->str(), "2001:db8:12:3400:0:c000:201:20");
  auto other = br_lookup(set, *Ipv4Endpoint::parse("192.0.2.1:1232"));
  EXPECT_FALSE(other.encapsulate);
  EXPECT_EQ(other.reason, "wrong_psid");
}

// RFC 7597 App. B: port = A * 2^(16-a) + PSID * 2^m + j, A >= 1.
// a = 4, k = 8 is also the book's table 4.1 (PSID 0xfe): 15 sets of 16.
TEST(PortSet, BookTable41) {
  PortSet s(4, 8, 0xfe);
  auto r = s.ranges();
  ASSERT_EQ(r.size(), 15u);
  EXPECT_EQ(r[0], (PortRange{0x1fe0, 0x1fef}));
  EXPECT_EQ(r[1], (PortRange{0x2fe0, 0x2fef}));
  EXPECT_EQ(r[13], (PortRange{0xefe0, 0xefef}));
  EXPECT_EQ(r[14], (PortRange{0xffe0, 0xffef}));
  EXPECT_EQ(s.size(), 240u);
  EXPECT_EQ(s.port_at(0), 8160);
  EXPECT_EQ(s.port_at(16), 12256);
  EXPECT_EQ(s.port_at(239), 65519);
  EXPECT_EQ(s.index_of(12271), 31u);
  EXPECT_FALSE(s.index_of(0x0fe0).has_value());  // A = 0
  EXPECT_FALSE(s.index_of(0x1fd0).has_value());  // PSID 0xfd
}

TEST(PortSet, AppendixBSinglePortsAEqualsSixKEqualsTen) {
  // m = 0: one port per A value, A = 1..63.
  PortSet s(6, 10, 0x155);
  auto r = s.ranges();
  ASSERT_EQ(r.size(), 63u);
  EXPECT_EQ(r[0], (PortRange{1024 + 0x155, 1024 + 0x155}));
  EXPECT_EQ(r[62], (PortRange{63 * 1024 + 0x155, 63 * 1024 + 0x155}));
}

TEST(PortSet, OcnShapeA6K6) {
  PortSet s(6, 6, 0x2b);
  EXPECT_EQ(s.size(), 1008u);
  auto r = s.ranges();
  ASSERT_EQ(r.size(), 63u);
  EXPECT_EQ(r[0], (PortRange{1024 + 0x2b * 16, 1024 + 0x2b * 16 + 15}));  // 1712..1727
  EXPECT_EQ(r[0], (PortRange{1712, 1727}));
}

// v6plus-shaped rule: /31 IPv6, /15 IPv4, 25 EA bits -> /56, a=4, k=8.
constexpr const char* kV6plus = "ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4";

TEST(DeriveCe, V6plusShapeRfcAndLegacyIid) {
  auto m = ce(rules({kV6plus}), "240b:10:abcd:ef00::/56");
  EXPECT_EQ(m.ipv4.str(), "106.72.171.205");
  EXPECT_EQ(m.psid, 0xef);
  EXPECT_EQ(m.ports.size(), 240u);
  EXPECT_EQ(m.ports.ranges().front(), (PortRange{0x1ef0, 0x1eff}));
  EXPECT_EQ(m.ce_address.str(), "240b:10:abcd:ef00:0:6a48:abcd:ef");
  auto legacy = ce(rules({kV6plus}, /*legacy=*/true), "240b:10:abcd:ef00::/56");
  EXPECT_EQ(legacy.ce_address.str(), "240b:10:abcd:ef00:6a:48ab:cd00:ef00");
  // Bit 31 (the last bit of the rule's /31) set selects the upper /16.
  auto upper = ce(rules({kV6plus}), "240b:11:abcd:ef00::/56");
  EXPECT_EQ(upper.ipv4.str(), "106.73.171.205");
}

TEST(DeriveCe, LegacyIidRfcExample) {
  auto m = ce(rules({kRfcBmr}, true), "2001:db8:12:3400::/56");
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3400:c0:2:1200:3400");
}

TEST(DeriveCe, LongerEndUserPrefixKeepsItsSubnetBits) {
  // A /64 out of the /56: the subnet bits are the CE's own.
  auto m = ce(rules({kRfcBmr}), "2001:db8:12:3405::/64");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.18");
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3405:0:c000:212:34");
}

// n + o = 73: longer than /64 and not octet-aligned; the prefix overwrites
// the top 9 bits of the IID (RFC 7597 §6). ipv4 .200 = 0xc8, PSID 0x13.
TEST(DeriveCe, PrefixLongerThan64NotOctetAligned) {
  const char* rule = "ipv6=2001:db8:1234:5670::/60,ipv4=192.0.2.0/24,ea=13";
  auto m = ce(rules({rule}), "2001:db8:1234:567c:8980::/73");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.200");
  EXPECT_EQ(m.psid, 0x13);
  EXPECT_EQ(m.ports.psid_len(), 5u);
  EXPECT_EQ(m.ce_address.str(), "2001:db8:1234:567c:8980:c000:2c8:13");
  auto legacy = ce(rules({rule}, true), "2001:db8:1234:567c:8980::/73");
  EXPECT_EQ(legacy.ce_address.str(), "2001:db8:1234:567c:89c0:2:c800:1300");
  // BR direction to port 1632 (A=1, PSID 0x13, M=0) finds the same CE.
  auto br = br_lookup(rules({rule}), *Ipv4Endpoint::parse("192.0.2.200:1632"));
  ASSERT_TRUE(br.encapsulate) << br.detail;
  EXPECT_EQ(br.ce_address->str(), "2001:db8:1234:567c:8980:c000:2c8:13");
  EXPECT_EQ(br.end_user_prefix->str(), "2001:db8:1234:567c:8980::/73");
}

TEST(DeriveCe, IPv4PrefixWhenOPlusRBelow32) {
  auto m = ce(rules({"ipv6=2001:db8::/40,ipv4=10.0.0.0/8,ea=16"}), "2001:db8:12:3400::/56");
  EXPECT_EQ(m.ipv4.str(), "10.18.52.0");
  EXPECT_EQ(m.ipv4_prefix_len, 24u);
  EXPECT_FALSE(m.psid.has_value());
  EXPECT_EQ(m.ports.size(), 65536u);
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12:3400:0:a12:3400:0");
}

TEST(DeriveCe, FullAddressWhenOPlusREquals32) {
  auto m = ce(rules({"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=8"}), "2001:db8:12::/48");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.18");
  EXPECT_EQ(m.ipv4_prefix_len, 32u);
  EXPECT_FALSE(m.psid.has_value());
  EXPECT_EQ(m.ce_address.str(), "2001:db8:12::c000:212:0");
}

TEST(DeriveCe, RuleWithEmptyIPv4Prefix) {
  // r = 0: the whole IPv4 address and the PSID are EA bits (o = 32 + 8).
  auto m = ce(rules({"ipv6=2001:db8::/32,ipv4=0.0.0.0/0,ea=40"}), "2001:db8:c000:212:3400::/72");
  EXPECT_EQ(m.ipv4.str(), "192.0.2.18");
  EXPECT_EQ(m.psid, 0x34);
  EXPECT_EQ(m.ce_address.str(), "2001:db8:c000:212:3400:c000:212:34");
}

TEST(DeriveCe, ErrorsNameTheProblem) {
  auto set = rules({kRfcBmr});
  auto outside = derive_ce(set, *Ipv6Prefix::parse("2001:db9::/56"));
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("outside every rule"), std::string::npos);
  auto shorter = derive_ce(set, *Ipv6Prefix::parse("2001:db8:12::/48"));
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.error().message.find("not all EA bits are known"), std::string::npos)
      << shorter.error().message;
}

TEST(DeriveCe, BmrIsTheLongestMatch) {
  auto set = rules({"ipv6=2001:db8::/32,ipv4=198.51.100.0/24,ea=16",
                    "ipv6=2001:db8:ff00::/40,ipv4=192.0.2.0/24,ea=16"});
  EXPECT_EQ(ce(set, "2001:db8:ff12:3400::/56").ipv4.str(), "192.0.2.18");
  EXPECT_EQ(ce(set, "2001:db8:1234::/48").ipv4.str(), "198.51.100.18");
}

TEST(BrLookup, DropsPortsOutsideEverySetAndUnknownDestinations) {
  auto set = rules({kRfcBmr});
  auto low = br_lookup(set, *Ipv4Endpoint::parse("192.0.2.18:1023"));
  EXPECT_FALSE(low.encapsulate);
  EXPECT_EQ(low.reason, "excluded_port");
  EXPECT_FALSE(low.ce_address.has_value());
  auto none = br_lookup(set, *Ipv4Endpoint::parse("198.51.100.1:5000"));
  EXPECT_FALSE(none.encapsulate);
  EXPECT_EQ(none.reason, "no_rule");
  // Another PSID's port goes to another CE.
  auto other = br_lookup(set, *Ipv4Endpoint::parse("192.0.2.18:1236"));
  ASSERT_TRUE(other.encapsulate);
  EXPECT_EQ(other.psid, 0x35);
  EXPECT_EQ(other.ce_address->str(), "2001:db8:12:3500:0:c000:212:35");
}

TEST(BrLookup, V6plusShapeBothLayouts) {
  // Port 0x1ef0 = 7920: A=1, PSID 0xef.
  auto r = br_lookup(rules({kV6plus}), *Ipv4Endpoint::parse("106.72.171.205:7920"));
  ASSERT_TRUE(r.encapsulate);
  EXPECT_EQ(r.ce_address->str(), "240b:10:abcd:ef00:0:6a48:abcd:ef");
  auto l = br_lookup(rules({kV6plus}, true), *Ipv4Endpoint::parse("106.72.171.205:7920"));
  EXPECT_EQ(l.ce_address->str(), "240b:10:abcd:ef00:6a:48ab:cd00:ef00");
  auto low = br_lookup(rules({kV6plus}), *Ipv4Endpoint::parse("106.72.171.205:4095"));
  EXPECT_EQ(low.reason, "excluded_port");  // below 2^(16-4)
}

struct SrcCase {
  const char* name;
  const char* outer;
  const char* inner;
  const char* reason;
};

void PrintTo(const SrcCase& c, std::ostream* os) { *os << c.name; }

class ReceiveCheck : public ::testing::TestWithParam<SrcCase> {};

TEST_P(ReceiveCheck, Rfc7597Section81) {
  const auto& c = GetParam();
  auto r = check_source(rules({kRfcBmr}), *Ipv6Addr::parse(c.outer), *Ipv4Endpoint::parse(c.inner));
  EXPECT_EQ(r.reason, c.reason) << r.detail;
  EXPECT_EQ(r.accept, std::string(c.reason) == "ok");
  EXPECT_FALSE(r.detail.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReceiveCheck,
    ::testing::Values(
        SrcCase{"accept", "2001:db8:12:3400:0:c000:212:34", "192.0.2.18:1232", "ok"},
        SrcCase{"accept_last_port", "2001:db8:12:3400:0:c000:212:34", "192.0.2.18:64723", "ok"},
        SrcCase{"wrong_psid", "2001:db8:12:3400:0:c000:212:34", "192.0.2.18:1236", "wrong_psid"},
        SrcCase{"port_below_2_pow_10", "2001:db8:12:3400:0:c000:212:34", "192.0.2.18:52",
                "excluded_port"},
        SrcCase{"wrong_ipv4", "2001:db8:12:3400:0:c000:212:34", "192.0.2.19:1232",
                "addr_outside_rule"},
        SrcCase{"ipv4_of_other_rule", "2001:db8:12:3400:0:c000:212:34", "198.51.100.18:1232",
                "addr_outside_rule"},
        SrcCase{"iid_not_ce_address", "2001:db8:12:3400::1", "192.0.2.18:1232", "not_ce_address"},
        SrcCase{"subnet_bits_set", "2001:db8:12:3401:0:c000:212:34", "192.0.2.18:1232",
                "not_ce_address"},
        SrcCase{"no_rule", "2001:db9::1", "192.0.2.18:1232", "no_rule"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ReceiveCheck, LegacyLayoutAcceptsOnlyLegacyAddress) {
  auto set = rules({kRfcBmr}, true);
  auto in = *Ipv4Endpoint::parse("192.0.2.18:1232");
  EXPECT_TRUE(check_source(set, *Ipv6Addr::parse("2001:db8:12:3400:c0:2:1200:3400"), in).accept);
  EXPECT_EQ(check_source(set, *Ipv6Addr::parse("2001:db8:12:3400:0:c000:212:34"), in).reason,
            "not_ce_address");
}

}  // namespace
}  // namespace mapgw
