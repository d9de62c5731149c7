#include "loader/spread.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <set>

namespace mapgw {

Status set_spread_entries(int map_fd, int prog_fd, std::span<const uint32_t> cpus,
                          uint32_t possible_cpus) {
  const std::set<uint32_t> want(cpus.begin(), cpus.end());
  bpf_cpumap_val v{};
  v.qsize = kSpreadQueueFrames;
  v.bpf_prog.fd = prog_fd;
  for (uint32_t c : want) {
    if (bpf_map_update_elem(map_fd, &c, &v, BPF_ANY)) {
      return make_error("mapgw_spread: CPU " + std::to_string(c) + " entry", errno);
    }
  }
  for (uint32_t c = 0; c < possible_cpus; ++c) {
    if (want.count(c)) continue;
    if (bpf_map_delete_elem(map_fd, &c) && errno != ENOENT && errno != EINVAL) {
      return make_error("mapgw_spread: removing CPU " + std::to_string(c), errno);
    }
  }
  return Status::Ok();
}

}  // namespace mapgw
