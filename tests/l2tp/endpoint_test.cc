// Peer strings as the LNS keys them, to socket addresses and back.
#include <gtest/gtest.h>

#include "vpn/l2tp/endpoint.h"

namespace mapgw::l2tp {
namespace {

TEST(Endpoint, RoundTripsBothFamilies) {
  for (const char* s : {"[2001:db8::7]:1701", "192.0.2.7:1701", "[::1]:65535", "10.0.0.1:1"}) {
    auto e = Endpoint::parse(s);
    ASSERT_TRUE(e) << s;
    EXPECT_EQ(e->str(), s);
  }
  EXPECT_EQ(peer_host("[2001:db8::7]:1701"), "2001:db8::7");
  EXPECT_EQ(peer_host("192.0.2.7:4500"), "192.0.2.7");
  // The gate's lookup key: a peer's address bytes equal its host's.
  EXPECT_EQ(Endpoint::parse("[2001:db8::7]:1701")->address_bytes(), host_bytes("2001:db8::7"));
  EXPECT_EQ(Endpoint::parse("192.0.2.7:1701")->address_bytes(), host_bytes("192.0.2.7"));
  EXPECT_EQ(host_bytes("192.0.2.7").size(), 4u);
  EXPECT_NE(host_bytes("2001:db8::7"), host_bytes("2001:db8::8"));
  EXPECT_EQ(host_bytes("nonsense"), "");
}

TEST(Endpoint, RefusesWhatIsNotAnEndpoint) {
  for (const char* s : {"", "1701", "[2001:db8::7]", "2001:db8::7:1701", "192.0.2.7:0", "192.0.2.7:65536",
                        "192.0.2.7:17a1", "[2001:db8::7:1701", "host.example:1701", "192.0.2.7:"}) {
    EXPECT_FALSE(Endpoint::parse(s)) << s;
  }
  EXPECT_EQ(peer_host("garbage"), "");
}

}  // namespace
}  // namespace mapgw::l2tp
