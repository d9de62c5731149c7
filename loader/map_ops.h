// Checked map operations with the map's name in every error, and
// "delete every key except these" for replacing a map's contents.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "agent/common/result.h"

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
  auto kept = [&](const Key& k) {
    for (const auto& x : keep) {
      if (std::memcmp(&x, &k, sizeof(Key)) == 0) return true;
    }
    return false;
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

}  // namespace mapgw
