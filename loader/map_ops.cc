#include "loader/map_ops.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <set>

namespace mapgw {

namespace {

uint64_t keep_top(uint64_t v, unsigned bits) {
  if (bits == 0) return 0;
  if (bits >= 64) return v;
  return v & (~0ULL << (64 - bits));
}

// Marks the /16s that @prefix/@len overlaps.
void cover_v4(mapgw_rule_lens& l, uint32_t prefix, unsigned len) {
  const unsigned first = prefix >> 16;
  const unsigned n = len >= 16 ? 1u : 1u << (16 - len);
  for (unsigned i = first & ~(n - 1); i < (first & ~(n - 1)) + n; ++i) {
    l.v4_cover[i / 64] |= uint64_t{1} << (i % 64);
  }
}

// The distinct prefix lengths (and covered /16s) of @rules (and of @also), longest first.
mapgw_rule_lens lens_of(std::span<const mapgw_br_rule> rules, const mapgw_rule_lens* also) {
  std::set<unsigned, std::greater<>> v4, v6;
  for (const auto& r : rules) {
    v4.insert(r.rule.ipv4_len);
    v6.insert(r.rule.ipv6_len);
  }
  if (also) {
    for (unsigned i = 0; i < also->n4 && i < 33; ++i) v4.insert(also->v4[i]);
    for (unsigned i = 0; i < also->n6 && i < 129; ++i) v6.insert(also->v6[i]);
  }
  mapgw_rule_lens l{};
  for (unsigned len : v4) l.v4[l.n4++] = static_cast<uint8_t>(len);
  for (unsigned len : v6) l.v6[l.n6++] = static_cast<uint8_t>(len);
  for (const auto& r : rules) cover_v4(l, r.rule.ipv4_prefix, r.rule.ipv4_len);
  if (also) {
    for (unsigned w = 0; w < MAPGW_V4_COVER_WORDS; ++w) l.v4_cover[w] |= also->v4_cover[w];
  }
  return l;
}

}  // namespace

mapgw_lpm4_key lpm4_key_of(const mapgw_rule& r) {
  mapgw_lpm4_key k{};
  k.prefixlen = r.ipv4_len;
  uint32_t be = htonl(static_cast<uint32_t>(keep_top(uint64_t{r.ipv4_prefix} << 32, r.ipv4_len) >> 32));
  std::memcpy(k.addr, &be, 4);
  return k;
}

mapgw_lpm6_key lpm6_key_of(const mapgw_rule& r) {
  mapgw_lpm6_key k{};
  k.prefixlen = r.ipv6_len;
  const uint64_t hi = keep_top(r.ipv6_prefix.hi, r.ipv6_len);
  const uint64_t lo = r.ipv6_len > 64 ? keep_top(r.ipv6_prefix.lo, r.ipv6_len - 64) : 0;
  for (int i = 0; i < 8; ++i) {
    k.addr[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    k.addr[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  return k;
}

// Hitless: the lengths grow to cover old and new rules first, the new rules
// go in, the stale ones out, then the lengths shrink to the new set's.
Status replace_rule_maps(int fd4, int fd6, int fd_lens, std::span<const mapgw_br_rule> rules) {
  if (rules.size() > MAPGW_RULE_LIMIT) {
    return make_error(std::to_string(rules.size()) + " rules: a data plane holds at most " +
                      std::to_string(MAPGW_RULE_LIMIT));
  }
  const uint32_t zero = 0;
  mapgw_rule_lens old{};
  if (bpf_map_lookup_elem(fd_lens, &zero, &old) != 0) return make_error("reading mapgw_rule_lens", errno);
  const mapgw_rule_lens both = lens_of(rules, &old);
  if (auto st = map_update(fd_lens, &zero, &both, "mapgw_rule_lens"); !st) return st;
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
  if (auto st = map_delete_except(fd6, keys6, "mapgw_rules_v6"); !st) return st;
  const mapgw_rule_lens now = lens_of(rules, nullptr);
  return map_update(fd_lens, &zero, &now, "mapgw_rule_lens");
}

Status check_flow_cache_sets(uint32_t sets) {
  if (sets < MAPGW_FLOW_CACHE_SETS_MIN || sets > MAPGW_FLOW_CACHE_SETS_MAX || (sets & (sets - 1))) {
    return make_error("flow_cache_sets must be a power of two from " +
                      std::to_string(MAPGW_FLOW_CACHE_SETS_MIN) + " to " +
                      std::to_string(MAPGW_FLOW_CACHE_SETS_MAX) + ", not " + std::to_string(sets));
  }
  return Status::Ok();
}

Result<uint32_t> flow_cache_entries(uint32_t sets) {
  if (auto st = check_flow_cache_sets(sets); !st) return st.error();
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return make_error("counting possible CPUs for the flow cache", -cpus);
  const uint64_t entries = uint64_t{sets} * MAPGW_FLOW_CACHE_WAYS * static_cast<uint64_t>(cpus);
  if (entries > UINT32_MAX) {
    return make_error("flow_cache_sets " + std::to_string(sets) + " x " +
                      std::to_string(MAPGW_FLOW_CACHE_WAYS) + " ways x " + std::to_string(cpus) +
                      " possible CPUs is more entries than a map holds; choose fewer sets");
  }
  return static_cast<uint32_t>(entries);
}

Status write_own_macs(int fd, std::span<const uint32_t> ifindexes) {
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return make_error("socket for SIOCGIFHWADDR", errno);
  for (uint32_t side = 0; side < 2 && side < ifindexes.size(); ++side) {
    ifreq ifr{};
    mapgw_own_mac mac{};
    if (if_indextoname(ifindexes[side], ifr.ifr_name) && ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 &&
        ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
      std::memcpy(mac.addr, ifr.ifr_hwaddr.sa_data, 6);
      mac.set = 1;
    }  // else (not Ethernet): unset, no check
    if (auto st = map_update(fd, &side, &mac, "mapgw_own_macs"); !st) {
      close(sock);
      return st;
    }
  }
  close(sock);
  return Status::Ok();
}

Status replace_devmap(int fd, std::span<const uint32_t> ifindexes) {
  std::vector<uint32_t> keys(ifindexes.begin(), ifindexes.end());
  for (uint32_t ifi : keys) {
    if (auto st = map_update(fd, &ifi, &ifi, "mapgw_tx_ports"); !st) return st;
  }
  return map_delete_except(fd, keys, "mapgw_tx_ports");
}

}  // namespace mapgw
