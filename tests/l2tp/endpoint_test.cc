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

// Clients behind one NAT: the same address and port, told apart by the
// mark of the IPsec SA their datagrams came through.
TEST(Endpoint, TheSaMarkIsPartOfThePeer) {
  auto e = Endpoint::parse("192.0.2.7:1701#3");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mark, 3u);
  EXPECT_EQ(e->str(), "192.0.2.7:1701#3");
  EXPECT_EQ(e->host(), "192.0.2.7");
  EXPECT_EQ(e->ipsec_key(), "192.0.2.7#3");
  EXPECT_EQ(peer_ipsec_key("[2001:db8::7]:1701#4294967295"), "2001:db8::7#4294967295");
  EXPECT_EQ(peer_ipsec_key("192.0.2.7:1701"), "192.0.2.7");
  EXPECT_EQ(peer_host("192.0.2.7:1701#3"), "192.0.2.7");
  EXPECT_EQ(ipsec_key("192.0.2.7", 0), "192.0.2.7");
  // The lookup bytes: the address, then the mark big-endian.
  EXPECT_EQ(e->ipsec_key_bytes(), std::string("\xc0\x00\x02\x07\x00\x00\x00\x03", 8));
  EXPECT_EQ(e->ipsec_key_bytes(), ipsec_key_bytes("192.0.2.7", 3));
  EXPECT_EQ(Endpoint::parse("192.0.2.7:1701")->ipsec_key_bytes(), host_bytes("192.0.2.7"));
  EXPECT_NE(ipsec_key_bytes("192.0.2.7", 1), ipsec_key_bytes("192.0.2.7", 2));
  for (const char* bad : {"192.0.2.7:1701#", "192.0.2.7:1701#0", "192.0.2.7:1701#x", "192.0.2.7:1701#4294967296",
                          "192.0.2.7#3"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace mapgw::l2tp
