// The IPCP address pool: lowest free first, exhaustion, reuse.
#include <gtest/gtest.h>

#include "vpn/l2tp/address_pool.h"

namespace mapgw::l2tp {
namespace {

TEST(AddressPool, LowestFreeFirstAndReuse) {
  auto pool = AddressPool::parse("10.20.0.100-10.20.0.102");
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  EXPECT_EQ(pool->size(), 3u);
  const auto a = pool->take(), b = pool->take(), c = pool->take();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(ipv4_string(*a), "10.20.0.100");
  EXPECT_EQ(ipv4_string(*c), "10.20.0.102");
  EXPECT_FALSE(pool->take());  // exhausted
  pool->give_back(*b);
  EXPECT_EQ(pool->take(), b);  // the gap is filled first
  EXPECT_EQ(pool->in_use(), 3u);
}

TEST(AddressPool, RefusesBadRanges) {
  EXPECT_FALSE(AddressPool::parse("10.20.0.100").ok());
  EXPECT_FALSE(AddressPool::parse("10.20.0.200-10.20.0.100").ok());
  EXPECT_FALSE(AddressPool::parse("10.20.0.1-fd00::1").ok());
  auto last = AddressPool::parse("255.255.255.254-255.255.255.255");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->take() && last->take());
  EXPECT_FALSE(last->take());  // no wrap past the top of the space
}

}  // namespace
}  // namespace mapgw::l2tp
