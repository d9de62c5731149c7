// TunGro against an independent model of the kernel's side
// (tcp_packets.h): what it writes, cut back into segments, must be the
// very packets the client sent, byte for byte. What may not be coalesced
// must come out as it went in, behind an empty header, in its flow's order.
#include "vpn/l2tp/tun_gro.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "tests/l2tp/tcp_packets.h"

namespace mapgw::l2tp {
namespace {

using namespace tcp_model;

class TunGroTest : public ::testing::Test {
 protected:
  TunGro gro{[this](const iovec* parts, int count) {
    Written w;
    EXPECT_EQ(parts[0].iov_len, sizeof(VnetHeader));
    std::memcpy(&w.vnet, parts[0].iov_base, sizeof w.vnet);
    for (int i = 1; i < count; ++i)
      w.packet.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
    written.push_back(w);
    return true;
  }};
  std::vector<Written> written;
  std::deque<std::string> buffers;  // what the batch holds: push_back moves none of them

  void add(const std::vector<std::string>& packets) {
    for (const auto& p : packets) {
      buffers.push_back(p);
      gro.add(buffers.back().data(), buffers.back().size());
    }
  }
  std::vector<std::string> all_segments() const {
    std::vector<std::string> out;
    for (const auto& w : written) {
      auto s = segments_of(w);
      out.insert(out.end(), s.begin(), s.end());
    }
    return out;
  }
};

TEST_F(TunGroTest, ABurstOfOneIpv4FlowIsOneWriteThatCutsBackIntoTheSameSegments) {
  Flow f;
  f.options = std::string("\x01\x01\x08\x0a\0\0\x10\0\0\0\x20\0", 12);  // NOP NOP timestamps
  std::vector<std::string> sent;
  for (int i = 0; i < 9; ++i) sent.push_back(f.segment(1348));
  sent.push_back(f.segment(500, 0x18));  // the last, shorter, with PSH
  add(sent);
  gro.flush();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].vnet.gso_type, VnetHeader::kGsoTcpV4);
  EXPECT_EQ(written[0].vnet.gso_size, 1348);
  EXPECT_EQ(written[0].vnet.hdr_len, 20 + 32);
  EXPECT_EQ(all_segments(), sent);
  EXPECT_EQ(gro.counters().coalesced, 10u);
  EXPECT_EQ(gro.counters().writes, 1u);
}

TEST_F(TunGroTest, ABurstOfOneIpv6FlowIsOneWriteThatCutsBackIntoTheSameSegments) {
  Flow f;
  f.v6 = true;
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) sent.push_back(f.segment(1300));
  add(sent);
  gro.flush();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].vnet.gso_type, VnetHeader::kGsoTcpV6);
  EXPECT_EQ(all_segments(), sent);
}

TEST_F(TunGroTest, InterleavedFlowsAreOneWriteEach) {
  Flow a, b, c;
  b.sport = 40001;
  c.v6 = true;
  std::vector<std::string> sent, of_a, of_b, of_c;
  for (int i = 0; i < 6; ++i) {
    of_a.push_back(a.segment(1000));
    of_b.push_back(b.segment(1000));
    of_c.push_back(c.segment(1000));
    sent.insert(sent.end(), {of_a.back(), of_b.back(), of_c.back()});
  }
  add(sent);
  gro.flush();
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(segments_of(written[0]), of_a);
  EXPECT_EQ(segments_of(written[1]), of_b);
  EXPECT_EQ(segments_of(written[2]), of_c);
}

TEST_F(TunGroTest, NoMoreThanAnIpPacketHolds) {
  Flow f;
  std::vector<std::string> sent;
  for (int i = 0; i < 60; ++i) sent.push_back(f.segment(1400));
  add(sent);
  gro.flush();
  ASSERT_GE(written.size(), 2u);
  for (const auto& w : written) EXPECT_LE(w.packet.size(), 65535u);
  EXPECT_EQ(all_segments(), sent);
  EXPECT_EQ(gro.counters().packets, 60u);
}

// A second segment that differs from a burst's first in one way: it must
// be written on its own (or start the next write), never merged.
struct Breaker {
  const char* name;
  void (*change)(Flow& f, std::string& p);
};

class TunGroKeepsApart : public TunGroTest, public ::testing::WithParamInterface<Breaker> {};

TEST_P(TunGroKeepsApart, ASegmentThatDiffers) {
  Flow f;
  f.options = std::string("\x01\x01\x08\x0a\0\0\x10\0\0\0\x20\0", 12);
  const std::string first = f.segment(1000);
  std::string second = f.segment(1000);
  GetParam().change(f, second);
  const std::string third = f.segment(1000);
  add({first, second, third});
  gro.flush();
  std::vector<std::string> got = all_segments();
  EXPECT_EQ(got, (std::vector<std::string>{first, second, third}));
  ASSERT_GE(written.size(), 2u);
  EXPECT_EQ(written[0].packet, first) << "the first went alone: nothing merged into it";
}

INSTANTIATE_TEST_SUITE_P(
    TunGro, TunGroKeepsApart,
    ::testing::Values(
        Breaker{"sequence_gap",
                [](Flow&, std::string& p) { set32(p, 24, get32(p, 24) + 1), finish(p); }},
        Breaker{"other_ttl", [](Flow&, std::string& p) { p[8] = 9, finish(p); }},
        Breaker{"other_tos", [](Flow&, std::string& p) { p[1] = 3, finish(p); }},
        Breaker{"ipv4_id_skips", [](Flow&, std::string& p) { set16(p, 4, 999), finish(p); }},
        Breaker{"other_ack", [](Flow&, std::string& p) { set32(p, 28, 78), finish(p); }},
        Breaker{"other_window", [](Flow&, std::string& p) { set16(p, 34, 9), finish(p); }},
        Breaker{"other_urgent_pointer",
                [](Flow&, std::string& p) { set16(p, 38, 0x42), finish(p); }},
        Breaker{"other_timestamp", [](Flow&, std::string& p) { p[47] = 1, finish(p); }},
        Breaker{"bad_checksum", [](Flow&, std::string& p) { p[60] ^= 1; }},
        Breaker{"bad_ip_checksum", [](Flow&, std::string& p) { p[10] ^= 1; }},
        Breaker{"fin", [](Flow&, std::string& p) { p[33] = 0x11, finish(p); }},
        Breaker{"urgent", [](Flow&, std::string& p) { p[33] = 0x30, finish(p); }},
        Breaker{"fragment", [](Flow&, std::string& p) { set16(p, 6, 0x2000), finish(p); }},
        Breaker{"ip_options", [](Flow&, std::string& p) { p[0] = 0x46, finish(p); }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(TunGroTest, WhatFollowsAFinOrABareAckIsNotWrittenBeforeIt) {
  Flow f;
  const std::string a = f.segment(1000), b = f.segment(1000);
  const std::string fin = f.segment(0, 0x11);
  Flow g = f;
  g.sport = 40001;  // another flow's bare ACK in between
  const std::string c = f.segment(1000), bare = g.segment(0), d = f.segment(1000);
  add({a, b, fin, c, bare, d});
  gro.flush();
  EXPECT_EQ(all_segments(), (std::vector<std::string>{a, b, fin, c, bare, d}));
}

TEST_F(TunGroTest, ALongerSegmentAfterTheFirstStartsAnotherWrite) {
  Flow f;
  const std::string small = f.segment(500), big = f.segment(1000), big2 = f.segment(1000);
  add({small, big, big2});
  gro.flush();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].packet, small);
  EXPECT_EQ(segments_of(written[1]), (std::vector<std::string>{big, big2}));
}

TEST_F(TunGroTest, OtherProtocolsGoAsTheyCame) {
  std::string udp(
      "\x45\x00\x00\x1c\x00\x01\x00\x00\x40\x11\x00\x00\x0a\x0a\x00\x64\x0a\x0a\x00\x01"
      "\x30\x39\x00\x35\x00\x08\x00\x00",
      28);
  std::string junk("\x99\x01\x02", 3);
  add({udp, junk});
  gro.flush();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].packet, udp);
  EXPECT_EQ(written[1].packet, junk);
  EXPECT_EQ(written[0].vnet.gso_type, VnetHeader::kGsoNone);
  EXPECT_EQ(written[0].vnet.flags, 0);
}

TEST_F(TunGroTest, AFailedWriteCountsItsSegments) {
  TunGro failing([](const iovec*, int) { return false; });
  Flow f;
  std::vector<std::string> sent = {f.segment(800), f.segment(800), f.segment(800)};
  for (auto& p : sent) failing.add(p.data(), p.size());
  failing.flush();
  EXPECT_EQ(failing.counters().failed_packets, 3u);
  EXPECT_EQ(failing.counters().writes, 1u);
}

}  // namespace
}  // namespace mapgw::l2tp
