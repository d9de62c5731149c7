// IPCP and IPV6CP as the server runs them, against scripted clients.
#include <gtest/gtest.h>

#include "vpn/bytes.h"
#include "vpn/ppp/ncp.h"

namespace mapgw::ppp {
namespace {

using Clock = Fsm::Clock;

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

Packet packet(uint8_t code, uint8_t id, const std::string& data) {
  Packet p;
  p.code = code;
  p.id = id;
  p.data = data;
  return p;
}

TEST(Ipcp, TheClientGetsThePoolsAddressAndDnsByNak) {
  std::vector<Packet> got;
  bool up = false;
  // Us 10.20.0.1, the client 10.20.0.100, DNS 10.20.0.53 / 10.20.0.54.
  Ipcp ipcp({0x0a140001, 0x0a140064, 0x0a140035, 0x0a140036}, [&](const Packet& p) { got.push_back(p); },
            [&](bool u) { up = u; });
  Clock::time_point now{};
  ipcp.fsm().open(now);
  ipcp.fsm().lower_up(now);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, hex("03060a140001"));  // our address
  // Windows' first request: address, DNS and WINS all zero.
  ipcp.fsm().receive(encode_packet(packet(1, 1, hex("030600000000" "810600000000" "820600000000" "830600000000"))), now);
  EXPECT_EQ(got.back().code, code::kConfigureReject);
  EXPECT_EQ(got.back().data, hex("820600000000"));  // WINS: not offered
  ipcp.fsm().receive(encode_packet(packet(1, 2, hex("030600000000" "810600000000" "830600000000"))), now);
  EXPECT_EQ(got.back().code, code::kConfigureNak);
  EXPECT_EQ(got.back().data, hex("03060a140064" "81060a140035" "83060a140036"));
  ipcp.fsm().receive(encode_packet(packet(1, 3, hex("03060a140064" "81060a140035" "83060a140036"))), now);
  EXPECT_EQ(got.back().code, code::kConfigureAck);
  ipcp.fsm().receive(encode_packet(packet(2, got[0].id, got[0].data)), now);
  EXPECT_TRUE(up);
  // A client insisting on another address is corrected again.
  ipcp.fsm().receive(encode_packet(packet(1, 4, hex("0306c0a80001"))), now);
  EXPECT_EQ(got.back().data, hex("03060a140064"));
}

TEST(Ipcp, NoDnsConfiguredMeansTheOptionIsRejected) {
  std::vector<Packet> got;
  Ipcp ipcp({0x0a140001, 0x0a140064, 0, 0}, [&](const Packet& p) { got.push_back(p); }, [](bool) {});
  Clock::time_point now{};
  ipcp.fsm().open(now);
  ipcp.fsm().lower_up(now);
  ipcp.fsm().receive(encode_packet(packet(1, 1, hex("030600000000" "810600000000"))), now);
  EXPECT_EQ(got.back().code, code::kConfigureReject);
  EXPECT_EQ(got.back().data, hex("810600000000"));
}

TEST(Ipv6cp, IdentifiersAgreedAndClashesResolved) {
  std::vector<Packet> got;
  bool up = false;
  const Ipv6cp::Iid ours{1, 2, 3, 4, 5, 6, 7, 8};
  Ipv6cp v6(ours, [&](const Packet& p) { got.push_back(p); }, [&](bool u) { up = u; });
  Clock::time_point now{};
  v6.fsm().open(now);
  v6.fsm().lower_up(now);
  EXPECT_EQ(got[0].data, hex("010a0102030405060708"));
  // The client proposes our own identifier: a Nak with another, non-zero.
  v6.fsm().receive(encode_packet(packet(1, 1, hex("010a0102030405060708"))), now);
  ASSERT_EQ(got.back().code, code::kConfigureNak);
  const std::string suggested = got.back().data.substr(2);
  EXPECT_NE(suggested, hex("0102030405060708"));
  EXPECT_NE(suggested, std::string(8, '\0'));
  v6.fsm().receive(encode_packet(packet(1, 2, std::string("\x01\x0a", 2) + suggested)), now);
  EXPECT_EQ(got.back().code, code::kConfigureAck);
  v6.fsm().receive(encode_packet(packet(2, got[0].id, got[0].data)), now);
  EXPECT_TRUE(up);
  EXPECT_EQ(std::string(v6.peers().begin(), v6.peers().end()), suggested);
}

}  // namespace
}  // namespace mapgw::ppp
