// Receive spreading on the inner flow (bpf/spread.h): the cpumap entries
// that run the role's per-CPU program on the spread CPUs.
#pragma once

#include <cstdint>
#include <span>

#include "agent/common/result.h"

namespace mapgw {

// Frames a spread CPU's queue holds before the kernel drops (counted as
// drop_spread_queue_full): about 1 ms of a 2 Mpps share.
inline constexpr uint32_t kSpreadQueueFrames = 2048;

// Exactly @cpus get a cpumap entry running @prog_fd in the cpumap @map_fd
// (@possible_cpus entries); every other entry is removed, so a CPU dropped
// from the configuration gets no frames and loses its kernel thread.
Status set_spread_entries(int map_fd, int prog_fd, std::span<const uint32_t> cpus,
                          uint32_t possible_cpus);

}  // namespace mapgw
