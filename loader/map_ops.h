// Checked map operations with the map's name in every error, and
// "delete every key except these" for replacing a map's contents.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include <span>

#include "loader/result.h"
#include "mapgw_abi.h"

namespace mapgw {

inline Status map_update(int fd, const void* key, const void* value, const char* name) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0) {
    return make_error(std::string("updating map ") + name, errno);
  }
  return Status::Ok();
}

// Keys are compared bytewise: they must be fully initialised structs.
template <typename Key>
Status map_delete_except(int fd, const std::vector<Key>& keep, const char* name) {
  std::unordered_set<std::string> kept_bytes;  // O(1) membership: maps hold 64k rules
  kept_bytes.reserve(keep.size());
  for (const auto& k : keep) kept_bytes.emplace(reinterpret_cast<const char*>(&k), sizeof(Key));
  auto kept = [&](const Key& k) {
    return kept_bytes.count(std::string(reinterpret_cast<const char*>(&k), sizeof(Key))) > 0;
  };
  std::vector<Key> stale;
  Key cur{}, next{};
  bool first = true;
  while (bpf_map_get_next_key(fd, first ? nullptr : &cur, &next) == 0) {
    if (!kept(next)) stale.push_back(next);
    cur = next;
    first = false;
  }
  for (const auto& k : stale) {
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
      return make_error(std::string("deleting a stale entry of map ") + name, errno);
    }
  }
  return Status::Ok();
}

// The rule tables of either role and their prefix lengths (@fd_lens):
// exactly @rules afterwards, new ones in before stale ones out, so a lookup
// never misses a rule present in both sets. Keys derive from the rule.
// A flow cache size the data plane takes: a power of two within
// MAPGW_FLOW_CACHE_SETS_MIN..MAX.
Status check_flow_cache_sets(uint32_t sets);
// The flow cache map's entries for @sets sets of MAPGW_FLOW_CACHE_WAYS per CPU: a part
// for every possible CPU (bpf/flow_cache.h, flow_set_index), or why not.
Result<uint32_t> flow_cache_entries(uint32_t sets);

Status replace_rule_maps(int fd4, int fd6, int fd_lens, std::span<const mapgw_br_rule> rules);

// A devmap holding exactly these egress ifindexes.
Status replace_devmap(int fd, std::span<const uint32_t> ifindexes);

// mapgw_own_macs: the link-layer addresses of @ifindexes, in side order
// (MAPGW_SIDE_*); a side that is not Ethernet stays unchecked.
Status write_own_macs(int fd, std::span<const uint32_t> ifindexes);

mapgw_lpm4_key lpm4_key_of(const mapgw_rule& r);
mapgw_lpm6_key lpm6_key_of(const mapgw_rule& r);

}  // namespace mapgw
