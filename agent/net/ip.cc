#include "agent/net/ip.h"

#include <arpa/inet.h>

#include <charconv>

namespace mapgw {
namespace {

Result<uint8_t> parse_prefix_len(std::string_view text, std::string_view whole, int max) {
  int len = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
  if (ec != std::errc() || ptr != text.data() + text.size() || len < 0 || len > max) {
    return make_error("bad prefix length in '" + std::string(whole) + "': must be 0.." +
                      std::to_string(max));
  }
  return static_cast<uint8_t>(len);
}

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void store_be64(uint64_t v, uint8_t* p) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

}  // namespace

Result<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return make_error("'" + s + "' is not an IPv4 address");
  }
  return Ipv4Addr{ntohl(a.s_addr)};
}

std::string Ipv4Addr::str() const {
  in_addr a{htonl(value)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<Ipv6Addr> Ipv6Addr::parse(std::string_view text) {
  std::string s(text);
  uint8_t b[16];
  if (inet_pton(AF_INET6, s.c_str(), b) != 1) {
    return make_error("'" + s + "' is not an IPv6 address");
  }
  return from_bytes(b);
}

Ipv6Addr Ipv6Addr::from_bytes(const uint8_t bytes[16]) {
  return Ipv6Addr{{load_be64(bytes), load_be64(bytes + 8)}};
}

std::array<uint8_t, 16> Ipv6Addr::bytes() const {
  std::array<uint8_t, 16> b{};
  store_be64(value.hi, b.data());
  store_be64(value.lo, b.data() + 8);
  return b;
}

std::string Ipv6Addr::str() const {
  auto b = bytes();
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
  return buf;
}

Result<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  uint8_t len = 32;
  if (slash != std::string_view::npos) {
    auto l = parse_prefix_len(text.substr(slash + 1), text, 32);
    if (!l) return l.error();
    len = *l;
  }
  Ipv4Prefix p{*addr, len};
  if ((addr->value & ~mapgw_top_mask32(len)) != 0) {
    Ipv4Prefix fixed{{addr->value & mapgw_top_mask32(len)}, len};
    return make_error("'" + std::string(text) + "' has bits set after the first " +
                      std::to_string(len) + " bits; did you mean " + fixed.str() + "?");
  }
  return p;
}

bool Ipv4Prefix::contains(Ipv4Addr a) const {
  return ((a.value ^ addr.value) & mapgw_top_mask32(len)) == 0;
}

std::string Ipv4Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

Result<Ipv6Prefix> Ipv6Prefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = Ipv6Addr::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  uint8_t len = 128;
  if (slash != std::string_view::npos) {
    auto l = parse_prefix_len(text.substr(slash + 1), text, 128);
    if (!l) return l.error();
    len = *l;
  }
  Ipv6Addr masked;
  mapgw_u128_copy_prefix(&masked.value, &addr->value, len);
  if (!(masked == *addr)) {
    Ipv6Prefix fixed{masked, len};
    return make_error("'" + std::string(text) + "' has bits set after the first " +
                      std::to_string(len) + " bits; did you mean " + fixed.str() + "?");
  }
  return Ipv6Prefix{*addr, len};
}

bool Ipv6Prefix::contains(const Ipv6Addr& a) const {
  return mapgw_u128_prefix_eq(&a.value, &addr.value, len);
}

std::string Ipv6Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

Result<Ipv4Endpoint> Ipv4Endpoint::parse(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error("'" + std::string(text) + "' is not IPV4:PORT");
  }
  auto addr = Ipv4Addr::parse(text.substr(0, colon));
  if (!addr) return addr.error();
  auto ps = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec != std::errc() || ptr != ps.data() + ps.size() || port > 65535 || ps.empty()) {
    return make_error("bad port in '" + std::string(text) + "': must be 0..65535");
  }
  return Ipv4Endpoint{*addr, static_cast<uint16_t>(port)};
}

}  // namespace mapgw
