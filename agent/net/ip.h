// IPv4/IPv6 addresses and prefixes as value types with strict parsing.
// Addresses are kept in host-order integers, which is what the MAP math in
// bpf/map_math.h works on; conversion to and from text happens only here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "loader/result.h"
#include "map_math.h"

namespace mapgw {

struct Ipv4Addr {
  uint32_t value = 0;  // host order

  static Result<Ipv4Addr> parse(std::string_view text);
  std::string str() const;
  friend bool operator==(Ipv4Addr, Ipv4Addr) = default;
};

struct Ipv6Addr {
  mapgw_u128 value{};  // host-order halves

  static Result<Ipv6Addr> parse(std::string_view text);
  static Ipv6Addr from_bytes(const uint8_t bytes[16]);
  std::array<uint8_t, 16> bytes() const;
  std::string str() const;
  friend bool operator==(const Ipv6Addr& a, const Ipv6Addr& b) {
    return a.value.hi == b.value.hi && a.value.lo == b.value.lo;
  }
};

struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 0;

  // "a.b.c.d/len"; a bare address means /32. Host bits must be zero.
  static Result<Ipv4Prefix> parse(std::string_view text);
  bool contains(Ipv4Addr a) const;
  std::string str() const;
  friend bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

struct Ipv6Prefix {
  Ipv6Addr addr;
  uint8_t len = 0;

  // "x::/len"; a bare address means /128. Host bits must be zero.
  static Result<Ipv6Prefix> parse(std::string_view text);
  bool contains(const Ipv6Addr& a) const;
  bool contains(const Ipv6Prefix& p) const { return p.len >= len && contains(p.addr); }
  std::string str() const;
  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

// Parse "a.b.c.d:port".
struct Ipv4Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;
  static Result<Ipv4Endpoint> parse(std::string_view text);
  std::string str() const { return addr.str() + ":" + std::to_string(port); }
};

}  // namespace mapgw
