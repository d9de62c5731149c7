#include "loader/counters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <vector>

namespace mapgw {

Result<CounterSnapshot> read_counters(int map_fd) {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return make_error("counting possible CPUs", -ncpu);
  CounterSnapshot out{};
  std::vector<mapgw_counter_val> per_cpu(static_cast<size_t>(ncpu));
  for (uint32_t key = 0; key < MAPGW_CNT_MAX; ++key) {
    if (bpf_map_lookup_elem(map_fd, &key, per_cpu.data()) != 0) {
      return make_error("reading counter " + std::to_string(key), errno);
    }
    for (const auto& v : per_cpu) {
      out[key].packets += v.packets;
      out[key].bytes += v.bytes;
    }
  }
  return out;
}

const char* counter_label(uint32_t index) {
  switch (index) {
#define MAPGW_COUNTER_CASE(name, num, label) \
  case num:                                  \
    return label;
    MAPGW_COUNTER_LIST(MAPGW_COUNTER_CASE)
#undef MAPGW_COUNTER_CASE
  }
  return nullptr;
}

}  // namespace mapgw
