#include "loader/map_ops.h"

#include <arpa/inet.h>

namespace mapgw {

mapgw_lpm4_key lpm4_key_of(const mapgw_rule& r) {
  mapgw_lpm4_key k{};
  k.prefixlen = r.ipv4_len;
  uint32_t be = htonl(r.ipv4_prefix);
  std::memcpy(k.addr, &be, 4);
  return k;
}

mapgw_lpm6_key lpm6_key_of(const mapgw_rule& r) {
  mapgw_lpm6_key k{};
  k.prefixlen = r.ipv6_len;
  for (int i = 0; i < 8; ++i) {
    k.addr[i] = static_cast<uint8_t>(r.ipv6_prefix.hi >> (56 - 8 * i));
    k.addr[8 + i] = static_cast<uint8_t>(r.ipv6_prefix.lo >> (56 - 8 * i));
  }
  return k;
}

Status replace_rule_maps(int fd4, int fd6, std::span<const mapgw_br_rule> rules) {
  if (rules.size() > MAPGW_RULE_LIMIT) {
    return make_error(std::to_string(rules.size()) + " rules: a data plane holds at most " +
                      std::to_string(MAPGW_RULE_LIMIT));
  }
  std::vector<mapgw_lpm4_key> keys4;
  std::vector<mapgw_lpm6_key> keys6;
  for (const auto& r : rules) {
    auto k4 = lpm4_key_of(r.rule);
    auto k6 = lpm6_key_of(r.rule);
    if (auto st = map_update(fd4, &k4, &r, "mapgw_rules_v4"); !st) return st;
    if (auto st = map_update(fd6, &k6, &r, "mapgw_rules_v6"); !st) return st;
    keys4.push_back(k4);
    keys6.push_back(k6);
  }
  if (auto st = map_delete_except(fd4, keys4, "mapgw_rules_v4"); !st) return st;
  return map_delete_except(fd6, keys6, "mapgw_rules_v6");
}

Status replace_devmap(int fd, std::span<const uint32_t> ifindexes) {
  std::vector<uint32_t> keys(ifindexes.begin(), ifindexes.end());
  for (uint32_t ifi : keys) {
    if (auto st = map_update(fd, &ifi, &ifi, "mapgw_tx_ports"); !st) return st;
  }
  return map_delete_except(fd, keys, "mapgw_tx_ports");
}

}  // namespace mapgw
