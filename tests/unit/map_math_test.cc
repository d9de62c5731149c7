// The shared integer core (bpf/map_math.h): bit slicing and port sets,
// checked against independent formulations (brute force over all ports).
#include <gtest/gtest.h>

#include <set>

#include "map_math.h"

namespace {

TEST(MapMath, BitsRoundTripAcrossTheMiddle) {
  // Every (start, len) that straddles, touches or avoids the 64-bit boundary.
  for (unsigned start = 0; start < 128; start += 7) {
    for (unsigned len = 1; len <= 48 && start + len <= 128; len += 5) {
      mapgw_u128 a{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
      const mapgw_u128 before = a;
      const uint64_t v = 0xa5a5a5a5a5a5ULL & mapgw_mask64(len);
      mapgw_u128_set_bits(&a, start, len, v);
      EXPECT_EQ(mapgw_u128_get_bits(&a, start, len), v) << start << "+" << len;
      // Bits outside [start, start+len) are untouched.
      for (unsigned b = 0; b < 128; ++b) {
        if (b >= start && b < start + len) continue;
        ASSERT_EQ(mapgw_u128_get_bits(&a, b, 1), mapgw_u128_get_bits(&before, b, 1))
            << "bit " << b << " changed by set " << start << "+" << len;
      }
    }
  }
}

TEST(MapMath, GetBitsMatchesByteView) {
  // 2001:db8:12:3400:: -> bits 40..47 = 0x12, 48..55 = 0x34 (RFC 7597 App. A Ex. 1).
  mapgw_u128 a{0x20010db800123400ULL, 0};
  EXPECT_EQ(mapgw_u128_get_bits(&a, 40, 8), 0x12u);
  EXPECT_EQ(mapgw_u128_get_bits(&a, 48, 8), 0x34u);
  EXPECT_EQ(mapgw_u128_get_bits(&a, 40, 16), 0x1234u);
  mapgw_u128 b{0x1ULL, 0x8000000000000000ULL};
  EXPECT_EQ(mapgw_u128_get_bits(&b, 63, 2), 0x3u);  // straddles
}

// Independent membership test straight from RFC 7597 §5.1's figure.
bool in_set_by_definition(unsigned a, unsigned k, unsigned psid, unsigned port) {
  unsigned m = 16 - a - k;
  unsigned A = a ? port >> (16 - a) : 1;
  return ((port >> m) & ((1u << k) - 1)) == psid && A != 0;
}

struct PortCase {
  const char* name;
  unsigned a, k, psid, count;
};

void PrintTo(const PortCase& c, std::ostream* os) { *os << c.name; }

class PortSetMath : public ::testing::TestWithParam<PortCase> {};

TEST_P(PortSetMath, IndexIsADenseBijection) {
  const auto& c = GetParam();
  EXPECT_EQ(mapgw_port_count(c.a, c.k), c.count);
  std::set<unsigned> seen;
  for (uint32_t i = 0; i < c.count; ++i) {
    uint16_t port = mapgw_port_from_index(c.a, c.k, c.psid, i);
    ASSERT_TRUE(in_set_by_definition(c.a, c.k, c.psid, port)) << "index " << i << " port " << port;
    ASSERT_EQ(mapgw_port_to_index(c.a, c.k, c.psid, port), static_cast<int32_t>(i));
    ASSERT_TRUE(seen.insert(port).second);
    if (i > 0) {
      ASSERT_GT(port, mapgw_port_from_index(c.a, c.k, c.psid, i - 1)) << "not ascending";
    }
  }
  unsigned members = 0;
  for (unsigned port = 0; port < 65536; ++port) {
    bool def = in_set_by_definition(c.a, c.k, c.psid, port);
    members += def;
    ASSERT_EQ(mapgw_port_to_index(c.a, c.k, c.psid, port) >= 0, def) << "port " << port;
    ASSERT_EQ(mapgw_port_excluded(c.a, c.k, port), c.a > 0 && (port >> (16 - c.a)) == 0);
  }
  EXPECT_EQ(members, c.count);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, PortSetMath,
    ::testing::Values(PortCase{"v6plus_a4_k8", 4, 8, 0xfe, 240},     // a = m = 4
                      PortCase{"ocn_a6_k6", 6, 6, 0x24, 1008},        // a=6, m=4
                      PortCase{"rfc_ex1_a6_k8", 6, 8, 0x34, 252},     // a=6, m=2
                      PortCase{"a0_k4", 0, 4, 3, 4096},               // no offset
                      PortCase{"a2_k10_m4", 2, 10, 0x2aa, 48},        // a != m, small a
                      PortCase{"a6_k10_m0", 6, 10, 0x3ff, 63}),       // single ports
    [](const auto& info) { return std::string(info.param.name); });

TEST(MapMath, NoPsidMeansEveryPort) {
  EXPECT_EQ(mapgw_port_count(6, 0), 65536u);
  EXPECT_EQ(mapgw_port_from_index(6, 0, 0, 0), 0);
  EXPECT_EQ(mapgw_port_from_index(6, 0, 0, 65535), 65535);
  EXPECT_EQ(mapgw_port_to_index(6, 0, 0, 80), 80);
  EXPECT_FALSE(mapgw_port_excluded(6, 0, 80));
}

}  // namespace
