// Prometheus metrics by pull (prometheus-cpp). Nothing is cached: each
// scrape asks the role for a snapshot (BPF counters summed over CPUs, NAT
// state counts, agent health) and turns it into metric families. The
// snapshot shape, produced by RoleService::metrics():
//   {"counters": {"<label>": {"packets": n, "bytes": n}, ...},
//    "gauges":   [{"name": "...", "help": "...", "labels": {...}, "value": x}, ...],
//    "totals":   [ same shape, exported as counters ]}
// Metric names follow Prometheus conventions: mapgw_ prefix, _total on
// counters, labels bounded (reasons, protocols, states; never flows).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "loader/result.h"

namespace prometheus {
class Exposer;
}

namespace mapgw {

// HTTP workers (each open connection holds one until its request is in) and
// how long one waits for a client's next bytes.
constexpr int kMetricsWorkers = 16;
constexpr int kMetricsRequestTimeoutMs = 2000;

class MetricsExporter {
 public:
  using Snapshot = std::function<nlohmann::json()>;

  // @listen is "host:port" ("[v6]:port" for IPv6). @lock is held while
  // @snapshot runs: scrapes come from the HTTP server's threads.
  static Result<std::unique_ptr<MetricsExporter>> start(const std::string& listen,
                                                        Snapshot snapshot, std::mutex& lock);
  ~MetricsExporter();

  std::string url() const { return url_; }

 private:
  MetricsExporter() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<void> collectable_;
  std::string url_;
};

// The "kind" label of a data-plane counter, from its stable name.
const char* counter_kind(const std::string& label);

}  // namespace mapgw
