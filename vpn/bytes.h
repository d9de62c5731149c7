// Big-endian fields and hex, as the VPN protocols' codecs (L2TP, PPP)
// and their tests write and read them: one copy instead of one per file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mapgw::bytes {

inline std::string be16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
inline std::string be32(uint32_t v) { return be16(static_cast<uint16_t>(v >> 16)) + be16(static_cast<uint16_t>(v)); }

// The caller has checked that @at + 2 (4) bytes are there.
inline uint16_t rd16(std::string_view b, size_t at = 0) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}
inline uint32_t rd32(std::string_view b, size_t at = 0) {
  return static_cast<uint32_t>(rd16(b, at)) << 16 | rd16(b, at + 2);
}

// In place, big-endian; the caller has checked the room.
inline void put16(char* at, uint16_t v) {
  at[0] = static_cast<char>(v >> 8);
  at[1] = static_cast<char>(v & 0xff);
}
inline void put32(char* at, uint32_t v) {
  put16(at, static_cast<uint16_t>(v >> 16));
  put16(at + 2, static_cast<uint16_t>(v));
}

// "0a1B..." → bytes; nullopt for an odd length or a non-hex digit.
inline std::optional<std::string> from_hex(std::string_view h) {
  if (h.size() % 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    const int hi = nibble(h[i]), lo = nibble(h[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

// Upper-case hex, as MS-CHAPv2's "S=" and "C=" fields write bytes.
inline std::string hex_upper(std::string_view b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : b) {
    out += kDigits[static_cast<uint8_t>(c) >> 4];
    out += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

}  // namespace mapgw::bytes
