// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit
// big-endian words, and the pseudo-headers TCP, UDP and ICMPv6 add to it
// (RFC 793 §3.1, RFC 8200 §8.1). One copy for the VPN paths' packet code.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mapgw::inet {

// The unfolded sum of @b's words, added to @sum; an odd last byte is the
// high half of a word (RFC 1071 §4.1). Four bytes a step: the carries of
// a 64-bit accumulator fold into the same result.
inline uint64_t add_words(std::string_view b, uint64_t sum = 0) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  size_t n = b.size();
  for (; n >= 4; p += 4, n -= 4)
    sum += uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
  if (n >= 2) {
    sum += uint32_t{p[0]} << 8 | p[1];
    p += 2;
    n -= 2;
  }
  if (n) sum += uint32_t{p[0]} << 8;
  return sum;
}

// Folded to 16 bits, not complemented.
inline uint16_t fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The pseudo-header's sum: source and destination addresses as they are
// in the packet (4 or 16 bytes each), the protocol and the upper-layer length.
inline uint64_t pseudo_header(std::string_view src, std::string_view dst, uint8_t protocol,
                              uint32_t length) {
  return add_words(dst, add_words(src)) + protocol + (length >> 16) + (length & 0xffff);
}

// The same for the addresses of @ip, an IPv4 or IPv6 header (the caller
// has checked it is whole).
inline uint64_t pseudo_header(std::string_view ip, uint8_t protocol, uint32_t length) {
  const bool v6 = static_cast<uint8_t>(ip[0]) >> 4 == 6;
  return v6 ? pseudo_header(ip.substr(8, 16), ip.substr(24, 16), protocol, length)
            : pseudo_header(ip.substr(12, 4), ip.substr(16, 4), protocol, length);
}

// The checksum field's value for @segment (its own field zero), and
// whether a received @segment's sum checks out.
inline uint16_t checksum(std::string_view segment, uint64_t pseudo = 0) {
  return static_cast<uint16_t>(~fold(add_words(segment, pseudo)));
}
inline bool checks_out(std::string_view segment, uint64_t pseudo = 0) {
  return fold(add_words(segment, pseudo)) == 0xffff;
}

}  // namespace mapgw::inet
