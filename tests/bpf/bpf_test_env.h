// Shared set-up for tests that load programs into the running kernel: they
// need root (CAP_BPF/CAP_NET_ADMIN) and say so loudly instead of skipping.
#pragma once

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <string>

#include "loader/libbpf_log.h"

namespace mapgw::testing {

inline void require_root() {
  ASSERT_EQ(geteuid(), 0u) << "this test loads BPF programs and needs root "
                              "(CAP_BPF, CAP_NET_ADMIN); run it as root (scripts/test.sh)";
  route_libbpf_logs(false);
}

// What the kernel says of map @map (all zero if it cannot be asked).
inline bpf_map_info map_info(int map) {
  bpf_map_info m{};
  uint32_t len = sizeof m;
  if (bpf_obj_get_info_by_fd(map, &m, &len) != 0) return bpf_map_info{};
  return m;
}

// A map of @prog's by name, as a new descriptor (to inspect or change it
// behind the data plane's back); -1 if there is none. The kernel keeps the
// first 15 characters of a name.
inline int map_fd_by_name(int prog, const std::string& name) {
  bpf_prog_info info{};
  uint32_t ids[64];
  info.nr_map_ids = 64;
  info.map_ids = reinterpret_cast<uint64_t>(ids);
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog, &info, &len) != 0) return -1;
  for (uint32_t i = 0; i < info.nr_map_ids && i < 64; ++i) {
    const int fd = bpf_map_get_fd_by_id(ids[i]);
    if (fd < 0) continue;
    if (name.substr(0, 15) == map_info(fd).name) return fd;
    close(fd);
  }
  return -1;
}

// The kernel's name of the loaded program @prog (its first 15 characters),
// or "" if it cannot be asked.
inline std::string prog_name(int prog) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(prog, &info, &len) == 0 ? std::string(info.name) : std::string();
}

// The route and flow caches are per CPU: tests that send a packet twice run
// on one CPU, or a migration between the two looks like a miss.
inline void stay_on_one_cpu() {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0) << std::strerror(errno);
}

}  // namespace mapgw::testing
