// The data-plane counters as the control socket and the metrics show them:
// {"counters": {"<label>": {"packets": n, "bytes": n}, ...}} or {"error": ...}.
#pragma once

#include <nlohmann/json.hpp>

#include "loader/counters.h"

namespace mapgw {

inline nlohmann::json counters_json(int map_fd, uint64_t& read_errors) {
  auto snap = read_counters(map_fd);
  if (!snap) {
    ++read_errors;
    return {{"error", snap.error().describe()}};
  }
  nlohmann::json counters = nlohmann::json::object();
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    if (const char* label = counter_label(i)) {
      counters[label] = {{"packets", (*snap)[i].packets}, {"bytes", (*snap)[i].bytes}};
    }
  }
  return {{"counters", counters}};
}

}  // namespace mapgw
