// Reading the per-CPU counter array (bpf/mapgw_abi.h) and summing CPUs.
// Used by mapgwctl stats, the metrics exporter and the tests alike.
#pragma once

#include <array>
#include <cstdint>

#include "loader/result.h"
#include "mapgw_abi.h"

namespace mapgw {

using CounterSnapshot = std::array<mapgw_counter_val, MAPGW_CNT_MAX>;

Result<CounterSnapshot> read_counters(int map_fd);

// The stable label of a counter ("rx_ipv4", ...), or nullptr for an unused slot.
const char* counter_label(uint32_t index);

}  // namespace mapgw
