// TcpSegments, the cutting of what a TUN device with TSO reads, against the
// same model of tcp_gso_segment (tcp_packets.h): a coalesced packet, cut,
// must give back the segments it was made of, and the model's cut of any
// GSO packet must equal ours.
#include "vpn/l2tp/tun_gso.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "tests/l2tp/tcp_packets.h"
#include "vpn/l2tp/tun_gro.h"

namespace mapgw::l2tp {
namespace {

using namespace tcp_model;

std::vector<std::string> cut(const Written& w) {
  auto s = TcpSegments::of(w.vnet, w.packet);
  EXPECT_TRUE(s);
  if (!s) return {};
  std::vector<std::string> out;
  std::string head(TcpSegments::kMaxHeaders, '\0');
  for (size_t i = 0; i < s->count(); ++i) {
    const std::string_view data = s->segment(i, head.data());
    out.push_back(head.substr(0, s->header_length()) + std::string(data));
  }
  return out;
}

// Segments coalesced by TunGro: one GSO packet, as the kernel would have it.
Written coalesce(const std::vector<std::string>& segments) {
  std::vector<Written> written;
  TunGro gro([&](const iovec* parts, int count) {
    Written w;
    std::memcpy(&w.vnet, parts[0].iov_base, sizeof w.vnet);
    for (int i = 1; i < count; ++i)
      w.packet.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
    written.push_back(w);
    return true;
  });
  std::deque<std::string> held(segments.begin(), segments.end());
  for (auto& p : held) gro.add(p.data(), p.size());
  gro.flush();
  EXPECT_EQ(written.size(), 1u);
  return written.at(0);
}

TEST(TcpSegments, CutsAnIpv4PacketBackIntoItsSegments) {
  Flow f;
  f.options = std::string("\x01\x01\x08\x0a\0\0\x10\0\0\0\x20\0", 12);
  std::vector<std::string> sent;
  for (int i = 0; i < 7; ++i) sent.push_back(f.segment(1348));
  sent.push_back(f.segment(77, 0x18));
  Written w = coalesce(sent);
  EXPECT_TRUE(cut(w) == segments_of(w));
  w.vnet.hdr_len = 1400;  // what a TUN device reports: its linear part, not the headers
  EXPECT_TRUE(cut(w) == sent);
}

TEST(TcpSegments, CutsAnIpv6PacketBackIntoItsSegments) {
  Flow f;
  f.v6 = true;
  std::vector<std::string> sent;
  for (int i = 0; i < 30; ++i) sent.push_back(f.segment(1220));
  const Written w = coalesce(sent);
  EXPECT_TRUE(cut(w) == sent);
}

TEST(TcpSegments, FinAndPshOnTheLastOnlyCwrOnTheFirstOnly) {
  Flow f;
  std::string whole = f.segment(3000, 0x80 | 0x10 | 0x08 | 0x01);  // CWR ACK PSH FIN
  Written w;
  w.packet = whole;
  w.vnet.flags = VnetHeader::kNeedsChecksum;
  w.vnet.gso_type = VnetHeader::kGsoTcpV4 | 0x80;  // with ECN
  w.vnet.gso_size = 1000;
  w.vnet.csum_start = 20;
  w.vnet.csum_offset = 16;
  const auto got = cut(w);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(got[0][33]), 0x90);
  EXPECT_EQ(static_cast<uint8_t>(got[1][33]), 0x10);
  EXPECT_EQ(static_cast<uint8_t>(got[2][33]), 0x19);
  w.vnet.gso_type = VnetHeader::kGsoTcpV4;
  w.vnet.hdr_len = 40;
  EXPECT_TRUE(got == segments_of(w));
}

TEST(TcpSegments, RefusesWhatIsNoTcpPacketToCut) {
  Flow f;
  const std::string p = f.segment(2000);
  VnetHeader v;
  v.gso_type = VnetHeader::kGsoTcpV4;
  v.gso_size = 1000;
  EXPECT_TRUE(TcpSegments::of(v, p));
  EXPECT_FALSE(TcpSegments::of(v, p.substr(0, 30)));  // cut short in the TCP header
  EXPECT_FALSE(TcpSegments::of(v, p.substr(0, 40)));  // headers, no data
  VnetHeader udp = v;
  udp.gso_type = 5;  // VIRTIO_NET_HDR_GSO_UDP_L4: never asked for
  EXPECT_FALSE(TcpSegments::of(udp, p));
  VnetHeader v6 = v;
  v6.gso_type = VnetHeader::kGsoTcpV6;  // says IPv6, is IPv4
  EXPECT_FALSE(TcpSegments::of(v6, p));
  VnetHeader zero = v;
  zero.gso_size = 0;
  EXPECT_FALSE(TcpSegments::of(zero, p));
  std::string not_tcp = p;
  not_tcp[9] = 17;
  EXPECT_FALSE(TcpSegments::of(v, not_tcp));
  std::string huge_offset = p;
  huge_offset[20 + 12] = static_cast<char>(0xf0);  // a 60-byte TCP header: fits, still cut
  EXPECT_TRUE(TcpSegments::of(v, huge_offset));
  std::string short_offset = p;
  short_offset[20 + 12] = 0x40;  // 16 bytes: no TCP header
  EXPECT_FALSE(TcpSegments::of(v, short_offset));
}

}  // namespace
}  // namespace mapgw::l2tp
