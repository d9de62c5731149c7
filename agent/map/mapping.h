// The three questions a MAP node asks of its rules (RFC 7597 §5, §8):
//   CE:  given my End-user prefix, what are my IPv4 address, PSID, port set
//        and MAP IPv6 address?
//   BR:  given an IPv4 destination and port, which CE address gets it?
//   BR/CE receive: is this inner IPv4 source:port allowed from that IPv6
//        source (anti-spoofing)?
#pragma once

#include <optional>
#include <string>

#include "loader/result.h"
#include "agent/map/port_set.h"
#include "agent/map/rule.h"
#include "agent/net/ip.h"

namespace mapgw {

struct CeMapping {
  MapRule rule;                   // the BMR
  Ipv6Prefix end_user_prefix;
  Ipv4Addr ipv4;                  // first address of the CE's IPv4 prefix
  unsigned ipv4_prefix_len = 32;  // r + o, at most 32
  std::optional<uint16_t> psid;   // none when the address is not shared
  PortSet ports;
  Ipv6Addr ce_address;
};

// BMR selection (longest match) and derivation. Errors name the rule
// and the bits that are missing or wrong.
Result<CeMapping> derive_ce(const RuleSet& rules, const Ipv6Prefix& end_user_prefix);

// Stable names for why a mapping was refused; also the metric labels.
const char* map_status_name(mapgw_map_status status);

struct BrLookup {
  bool encapsulate = false;
  std::string reason;  // "ok" or a stable drop name (see map_status_name)
  std::string detail;  // one human sentence
  const MapRule* rule = nullptr;
  std::optional<uint16_t> psid;
  std::optional<Ipv6Prefix> end_user_prefix;  // n + o bits
  std::optional<Ipv6Addr> ce_address;
};

BrLookup br_lookup(const RuleSet& rules, const Ipv4Endpoint& dst);

struct SourceCheck {
  bool accept = false;
  std::string reason;  // "ok" or a stable drop name
  std::string detail;
  const MapRule* rule = nullptr;
};

SourceCheck check_source(const RuleSet& rules, const Ipv6Addr& outer_src,
                         const Ipv4Endpoint& inner_src);

}  // namespace mapgw
