// Config-level rules -> the BR data plane's map values (bpf/mapgw_abi.h).
#pragma once

#include "agent/map/rule.h"
#include "agent/net/ip.h"
#include "mapgw_abi.h"

namespace mapgw {

inline mapgw_br_rule make_br_rule(const MapRule& rule, const Ipv6Addr& br_address) {
  mapgw_br_rule out{};
  out.rule = rule.raw();
  auto b = br_address.bytes();
  for (size_t i = 0; i < b.size(); ++i) out.br_addr[i] = b[i];
  return out;
}

}  // namespace mapgw
