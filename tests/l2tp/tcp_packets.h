// TCP segments for the TUN offload tests, built and checked here without
// the code under test: the test's own checksum, a flow that makes its next
// segment, and a model of the kernel's tcp_gso_segment that cuts a
// coalesced packet back (headers copied, IPv4 ID counted up, sequence
// numbers advanced, PSH and FIN on the last only, CWR on the first only,
// checksums computed from scratch).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "vpn/l2tp/vnet_header.h"

namespace mapgw::l2tp::tcp_model {

// The test's own checksum: RFC 1071 §4.1's loop, word by word.
inline uint16_t sum16(const std::string& b, uint32_t sum = 0) {
  for (size_t i = 0; i < b.size(); i += 2) {
    sum +=
        static_cast<uint8_t>(b[i]) << 8 | (i + 1 < b.size() ? static_cast<uint8_t>(b[i + 1]) : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
inline void set16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v >> 8);
  b[at + 1] = static_cast<char>(v);
}
inline void set32(std::string& b, size_t at, uint32_t v) {
  set16(b, at, static_cast<uint16_t>(v >> 16));
  set16(b, at + 2, static_cast<uint16_t>(v));
}
inline uint16_t get16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}
inline uint32_t get32(const std::string& b, size_t at) {
  return uint32_t{get16(b, at)} << 16 | get16(b, at + 2);
}

// Fills in the IPv4 header checksum and the TCP checksum of @p.
inline void finish(std::string& p) {
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
      p = std::string("\x60\x00\x00\x00", 4) + std::string(2, '\0') + "\x06" +
          static_cast<char>(ttl);
      p += std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
      p += std::string("\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01", 16);
      set16(p, 4, static_cast<uint16_t>(tcp_len + payload));
    } else {
      p = std::string("\x45\x00\0\0\0\0\x40\x00", 8) + static_cast<char>(ttl) + "\x06" +
          std::string(2, '\0');
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
inline std::vector<std::string> segments_of(const Written& w) {
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
    if (at + n < w.packet.size())
      p[ip + 13] = static_cast<char>(p[ip + 13] & ~0x09);           // PSH, FIN: the last's
    if (i > 0) p[ip + 13] = static_cast<char>(p[ip + 13] & ~0x80);  // CWR: the first's
    finish(p);
    out.push_back(p);
  }
  return out;
}

}  // namespace mapgw::l2tp::tcp_model
