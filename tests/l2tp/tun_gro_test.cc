// TunGro against an independent model of the kernel's side: what it writes
// is cut into segments here the way tcp_gso_segment does (headers copied,
// IPv4 ID counted up, sequence numbers advanced, PSH on the last only,
// checksums computed from scratch), and those must be the very packets the
// client sent, byte for byte. What may not be coalesced must come out as
// it went in, behind an empty header, in its flow's order.
#include "vpn/l2tp/tun_gro.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace mapgw::l2tp {
namespace {

// The test's own checksum: RFC 1071 §4.1's loop, word by word.
uint16_t sum16(const std::string& b, uint32_t sum = 0) {
  for (size_t i = 0; i < b.size(); i += 2) {
    sum += static_cast<uint8_t>(b[i]) << 8 | (i + 1 < b.size() ? static_cast<uint8_t>(b[i + 1]) : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
void set16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v >> 8);
  b[at + 1] = static_cast<char>(v);
}
void set32(std::string& b, size_t at, uint32_t v) {
  set16(b, at, static_cast<uint16_t>(v >> 16));
  set16(b, at + 2, static_cast<uint16_t>(v));
}
uint16_t get16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}
uint32_t get32(const std::string& b, size_t at) { return uint32_t{get16(b, at)} << 16 | get16(b, at + 2); }

// Fills in the IPv4 header checksum and the TCP checksum of @p.
void finish(std::string& p) {
  const bool v6 = (static_cast<uint8_t>(p[0]) >> 4) == 6;
  const size_t ip = v6 ? 40 : 20;
  if (!v6) {
    set16(p, 10, 0);
    set16(p, 10, sum16(p.substr(0, 20)));
  }
  std::string pseudo = v6 ? p.substr(8, 32) : p.substr(12, 8);
  const size_t tcp_len = p.size() - ip;
  pseudo += std::string(v6 ? 2 : 0, '\0');
  pseudo += std::string{static_cast<char>(tcp_len >> 8), static_cast<char>(tcp_len), '\0', '\x06'};
  set16(p, ip + 16, 0);
  set16(p, ip + 16, sum16(pseudo + p.substr(ip)));
}

struct Flow {
  bool v6 = false;
  uint16_t sport = 40000, dport = 5201;
  uint32_t seq = 1000, ack = 77;
  uint16_t id = 300;
  uint8_t ttl = 63;
  std::string options;  // TCP options, a multiple of 4 bytes

  // The next segment with @payload bytes and @flags (ACK = 0x10).
  std::string segment(size_t payload, uint8_t flags = 0x10) {
    const size_t tcp_len = 20 + options.size();
    std::string p;
    if (v6) {
      p = std::string("\x60\x00\x00\x00", 4) + std::string(2, '\0') + "\x06" + static_cast<char>(ttl);
      p += std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
      p += std::string("\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01", 16);
      set16(p, 4, static_cast<uint16_t>(tcp_len + payload));
    } else {
      p = std::string("\x45\x00\0\0\0\0\x40\x00", 8) + static_cast<char>(ttl) + "\x06" + std::string(2, '\0');
      p += std::string("\x0a\x0a\x00\x64\x0a\x0a\x00\x01", 8);
      set16(p, 2, static_cast<uint16_t>(20 + tcp_len + payload));
      set16(p, 4, id++);
    }
    std::string tcp(20, '\0');
    set16(tcp, 0, sport);
    set16(tcp, 2, dport);
    set32(tcp, 4, seq);
    set32(tcp, 8, ack);
    tcp[12] = static_cast<char>(tcp_len / 4 << 4);
    tcp[13] = static_cast<char>(flags);
    set16(tcp, 14, 502);
    tcp += options;
    for (size_t i = 0; i < payload; ++i) tcp += static_cast<char>('a' + (seq + i) % 26);
    seq += static_cast<uint32_t>(payload);
    p += tcp;
    finish(p);
    return p;
  }
};

struct Written {
  VnetHeader vnet;
  std::string packet;
};

// The kernel's side, as the model says: one write back into its segments.
std::vector<std::string> segments_of(const Written& w) {
  if (w.vnet.gso_type == VnetHeader::kGsoNone) return {w.packet};
  const bool v6 = w.vnet.gso_type == VnetHeader::kGsoTcpV6;
  EXPECT_EQ(w.vnet.flags, VnetHeader::kNeedsChecksum);
  EXPECT_EQ(w.vnet.csum_start, v6 ? 40 : 20);
  EXPECT_EQ(w.vnet.csum_offset, 16);
  const size_t head = w.vnet.hdr_len, mss = w.vnet.gso_size, ip = w.vnet.csum_start;
  EXPECT_GT(mss, 0u);
  // The length fields describe the whole packet.
  EXPECT_EQ(v6 ? get16(w.packet, 4) + 40u : get16(w.packet, 2), w.packet.size());
  std::vector<std::string> out;
  for (size_t at = head, i = 0; at < w.packet.size(); at += mss, ++i) {
    const size_t n = std::min(mss, w.packet.size() - at);
    std::string p = w.packet.substr(0, head) + w.packet.substr(at, n);
    if (v6) {
      set16(p, 4, static_cast<uint16_t>(p.size() - 40));
    } else {
      set16(p, 2, static_cast<uint16_t>(p.size()));
      set16(p, 4, static_cast<uint16_t>(get16(w.packet, 4) + i));
    }
    set32(p, ip + 4, get32(w.packet, ip + 4) + static_cast<uint32_t>(at - head));
    if (at + n < w.packet.size()) p[ip + 13] = static_cast<char>(p[ip + 13] & ~0x09);  // PSH, FIN: the last's
    finish(p);
    out.push_back(p);
  }
  return out;
}

class TunGroTest : public ::testing::Test {
 protected:
  TunGro gro{[this](const iovec* parts, int count) {
    Written w;
    EXPECT_EQ(parts[0].iov_len, sizeof(VnetHeader));
    std::memcpy(&w.vnet, parts[0].iov_base, sizeof w.vnet);
    for (int i = 1; i < count; ++i) w.packet.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
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
        Breaker{"sequence_gap", [](Flow&, std::string& p) { set32(p, 24, get32(p, 24) + 1), finish(p); }},
        Breaker{"other_ttl", [](Flow&, std::string& p) { p[8] = 9, finish(p); }},
        Breaker{"other_tos", [](Flow&, std::string& p) { p[1] = 3, finish(p); }},
        Breaker{"ipv4_id_skips", [](Flow&, std::string& p) { set16(p, 4, 999), finish(p); }},
        Breaker{"other_ack", [](Flow&, std::string& p) { set32(p, 28, 78), finish(p); }},
        Breaker{"other_window", [](Flow&, std::string& p) { set16(p, 34, 9), finish(p); }},
        Breaker{"other_timestamp", [](Flow&, std::string& p) { p[47] = 1, finish(p); }},
        Breaker{"bad_checksum", [](Flow&, std::string& p) { p[60] ^= 1; }},
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
  std::string udp("\x45\x00\x00\x1c\x00\x01\x00\x00\x40\x11\x00\x00\x0a\x0a\x00\x64\x0a\x0a\x00\x01"
                  "\x30\x39\x00\x35\x00\x08\x00\x00", 28);
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
