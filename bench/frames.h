// Benchmark frames, built byte by byte: Ethernet, IPv6, IPv4 and UDP headers
// with correct lengths and IPv4 header checksums, padded to exactly 128
// bytes (what cost.bpf.c's restore step copies). The programs' outputs are
// checked by counters, not by these builders' authors.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace mapgw::bench {

constexpr size_t kFrameLen = 128;

// Where the IPv4 header of a template frame is (after Ethernet, or after
// Ethernet and IPv6), 0 if it has none: generators that walk addresses fix
// its checksum there (the gateways verify it, as the kernel does).
inline uint32_t ipv4_header_offset(const std::vector<uint8_t>& f) {
  if (f.size() >= 34 && f[12] == 0x08 && f[13] == 0x00) return 14;
  if (f.size() >= 74 && f[12] == 0x86 && f[13] == 0xdd && f[20] == 4) return 54;
  return 0;
}

// Recomputes the header checksum of the IPv4 header at @at in @f.
inline void refresh_ipv4_checksum(std::vector<uint8_t>& f, uint32_t at) {
  if (!at || at + 20 > f.size()) return;
  f[at + 10] = f[at + 11] = 0;
  uint32_t sum = 0;
  for (uint32_t i = at; i < at + 20; i += 2) sum += (f[i] << 8) | f[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[at + 10] = static_cast<uint8_t>(~sum >> 8);
  f[at + 11] = static_cast<uint8_t>(~sum);
}

class FrameBuilder {
 public:
  FrameBuilder& eth(uint16_t type) {
    for (uint8_t b : {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}) f_.push_back(b);
    return u16(type);
  }
  // The payload length is filled in by done().
  FrameBuilder& ipv6(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst) {
    ipv6_at_ = f_.size();
    for (uint8_t b : {0x60, 0, 0, 0, 0, 0, 4, 64}) f_.push_back(b);
    f_.insert(f_.end(), src.begin(), src.end());
    f_.insert(f_.end(), dst.begin(), dst.end());
    return *this;
  }
  FrameBuilder& ipv4(uint32_t src, uint32_t dst) {  // host order; UDP
    ipv4_at_ = f_.size();
    for (uint8_t b : {0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0}) f_.push_back(b);
    return u32(src).u32(dst);
  }
  FrameBuilder& udp(uint16_t sport, uint16_t dport) {  // checksum 0 (none)
    udp_at_ = f_.size();
    return u16(sport).u16(dport).u16(0).u16(0);
  }
  std::vector<uint8_t> done() {
    f_.resize(kFrameLen, 'x');
    if (ipv6_at_) put16(ipv6_at_ + 4, static_cast<uint16_t>(kFrameLen - ipv6_at_ - 40));
    if (ipv4_at_) {
      put16(ipv4_at_ + 2, static_cast<uint16_t>(kFrameLen - ipv4_at_));
      uint32_t sum = 0;
      for (size_t i = 0; i < 20; i += 2) sum += (f_[ipv4_at_ + i] << 8) | f_[ipv4_at_ + i + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      put16(ipv4_at_ + 10, static_cast<uint16_t>(~sum));
    }
    if (udp_at_) put16(udp_at_ + 4, static_cast<uint16_t>(kFrameLen - udp_at_));
    return f_;
  }
  size_t ipv6_offset() const { return ipv6_at_; }
  size_t ipv4_offset() const { return ipv4_at_; }
  size_t udp_offset() const { return udp_at_; }

 private:
  FrameBuilder& u16(uint16_t v) {
    f_.push_back(static_cast<uint8_t>(v >> 8));
    f_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  FrameBuilder& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  void put16(size_t at, uint16_t v) {
    f_[at] = static_cast<uint8_t>(v >> 8);
    f_[at + 1] = static_cast<uint8_t>(v);
  }
  std::vector<uint8_t> f_;
  size_t ipv6_at_ = 0, ipv4_at_ = 0, udp_at_ = 0;
};

}  // namespace mapgw::bench
