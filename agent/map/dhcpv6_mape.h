// RFC 7598 MAP-E provisioning: OPTION_S46_CONT_MAPE (94) holding
// OPTION_S46_RULE (89, with OPTION_S46_PORTPARAMS 93 inside) and
// OPTION_S46_BR (90). Input is the raw option bytes a DHCPv6 client hands
// over (one or more options: code, length, data). The parser never trusts a
// length: framing errors reject the whole buffer; options that are valid
// DHCPv6 but irrelevant to MAP-E are skipped and listed in `ignored`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"
#include "agent/map/rule.h"

namespace mapgw {

inline constexpr uint16_t kOptS46Rule = 89;
inline constexpr uint16_t kOptS46Br = 90;
inline constexpr uint16_t kOptS46Dmr = 91;
inline constexpr uint16_t kOptS46V4V6Bind = 92;
inline constexpr uint16_t kOptS46PortParams = 93;
inline constexpr uint16_t kOptS46ContMapE = 94;
inline constexpr uint16_t kOptS46ContMapT = 95;
inline constexpr uint16_t kOptS46ContLw = 96;

struct MapEProvisioning {
  std::vector<MapRule> rules;
  std::vector<Ipv6Addr> brs;
  std::vector<std::string> ignored;  // "what: why", one per skipped item
};

Result<MapEProvisioning> parse_dhcpv6_mape(std::span<const uint8_t> options);

// Hex text to bytes; accepts upper/lower case and ':' ' ' separators.
Result<std::vector<uint8_t>> parse_hex(std::string_view text);

}  // namespace mapgw
