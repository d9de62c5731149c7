// Receive spreading on the inner flow (bpf/spread.h): the cpumap entries
// that run the role's per-CPU program on the spread CPUs.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loader/result.h"
#include "mapgw_abi.h"

namespace mapgw {

// Frames a spread CPU's queue holds before the kernel drops (counted as
// drop_spread_queue_full): about 1 ms of a 2 Mpps share.
inline constexpr uint32_t kSpreadQueueFrames = 2048;

// Exactly @cpus get a cpumap entry running @prog_fd in the cpumap @map_fd
// (@possible_cpus entries); every other entry is removed, so a CPU dropped
// from the configuration gets no frames and loses its kernel thread.
Status set_spread_entries(int map_fd, int prog_fd, std::span<const uint32_t> cpus,
                          uint32_t possible_cpus);

// Counts the spread queues' drops for as long as the daemon runs (not
// pinned: a daemon that is gone counts nothing, and two never count twice).
using SpreadDropsLink = std::unique_ptr<bpf_link, decltype(&bpf_link__destroy)>;

// What a data plane keeps of its receive spreading.
struct Spreading {
  std::vector<uint32_t> cpus;  // empty: off
  SpreadDropsLink drops{nullptr, &bpf_link__destroy};

  bool on() const { return !cpus.empty(); }
};

// Before load, for a role skeleton @s with bpf/spread.h's globals and map:
// which entry program loads (@plain, or @spreader with the cpumap program
// @per_cpu and the queue-drop counter @drops), the spread CPUs, and the
// cpumap's size (always the possible CPUs, so a pinned map fits whether
// spreading is on or not).
template <typename Skel>
Status prepare_spreading(Skel* s, bpf_program* plain, bpf_program* spreader, bpf_program* per_cpu,
                         bpf_program* drops, std::span<const uint32_t> cpus) {
  const int possible = libbpf_num_possible_cpus();
  if (possible <= 0) return make_error("counting the possible CPUs", -possible);
  if (int err = bpf_map__set_max_entries(s->maps.mapgw_spread, static_cast<uint32_t>(possible))) {
    return make_error("sizing mapgw_spread", -err);
  }
  const bool on = !cpus.empty();
  bpf_program__set_autoload(plain, !on);
  for (bpf_program* p : {spreader, per_cpu, drops}) bpf_program__set_autoload(p, on);
  if (!on) return Status::Ok();
  if (cpus.size() > MAPGW_MAX_SPREAD_CPUS) {
    return make_error("spread_cpus: " + std::to_string(cpus.size()) + " CPUs, at most " +
                      std::to_string(MAPGW_MAX_SPREAD_CPUS));
  }
  s->rodata->spread_cpu_count = static_cast<uint32_t>(cpus.size());
  for (size_t i = 0; i < cpus.size(); ++i) s->rodata->spread_cpus[i] = cpus[i];
  return Status::Ok();
}

// After load: the cpumap entries (or none), and the queue-drop counter told
// its map and attached.
template <typename Skel>
Result<Spreading> start_spreading(Skel* s, bpf_program* per_cpu, bpf_program* drops,
                                  std::span<const uint32_t> cpus) {
  Spreading out{{cpus.begin(), cpus.end()}};
  const int map_fd = bpf_map__fd(s->maps.mapgw_spread);
  const int prog_fd = out.on() ? bpf_program__fd(per_cpu) : -1;
  if (auto st = set_spread_entries(map_fd, prog_fd, cpus, bpf_map__max_entries(s->maps.mapgw_spread));
      !st) {
    return st.error();
  }
  if (!out.on()) return out;
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len)) return make_error("mapgw_spread's id", errno);
  s->bss->spread_map_id = info.id;
  out.drops.reset(bpf_program__attach(drops));
  if (!out.drops) return make_error("attaching the spread queue-drop counter to xdp_cpumap_enqueue", errno);
  return out;
}

}  // namespace mapgw
