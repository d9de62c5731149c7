#include "agent/daemon/metrics.h"
#include "agent/util/json_text.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <map>

namespace mapgw {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric::Label label(const std::string& k, const std::string& v) { return {k, v}; }

std::vector<ClientMetric::Label> labels_of(const nlohmann::json& j) {
  std::vector<ClientMetric::Label> out;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) out.push_back(label(k, v.is_string() ? v.get<std::string>() : json_text(v)));
  }
  return out;
}

class SnapshotCollectable : public prometheus::Collectable {
 public:
  SnapshotCollectable(MetricsExporter::Snapshot s, std::mutex& lock) : snapshot_(std::move(s)), lock_(lock) {}

  std::vector<MetricFamily> Collect() const override {
    nlohmann::json snap;
    {
      std::lock_guard<std::mutex> g(lock_);
      snap = snapshot_();
    }
    MetricFamily packets{"mapgw_datapath_packets_total",
                         "Packets per data-plane event: forwarding actions, passes, punts to the "
                         "slow path and drops, by stable counter name",
                         MetricType::Counter, {}};
    MetricFamily bytes{"mapgw_datapath_bytes_total", "Bytes per data-plane event",
                       MetricType::Counter, {}};
    if (snap.contains("counters")) {
      for (const auto& [name, v] : snap["counters"].items()) {
        ClientMetric p, b;
        p.label = b.label = {label("counter", name), label("kind", counter_kind(name))};
        p.counter.value = v.value("packets", 0.0);
        b.counter.value = v.value("bytes", 0.0);
        packets.metric.push_back(p);
        bytes.metric.push_back(b);
      }
    }
    std::vector<MetricFamily> out{packets, bytes};
    // Gauges and agent counters, grouped into families by name.
    std::map<std::string, MetricFamily> families;
    for (const char* section : {"gauges", "totals"}) {
      if (!snap.contains(section)) continue;
      const bool is_counter = std::string(section) == "totals";
      for (const auto& g : snap[section]) {
        const std::string name = g.value("name", "");
        auto& f = families[name];
        if (f.name.empty()) {
          f.name = name;
          f.help = g.value("help", "");
          f.type = is_counter ? MetricType::Counter : MetricType::Gauge;
        }
        ClientMetric m;
        m.label = labels_of(g.value("labels", nlohmann::json::object()));
        if (is_counter) m.counter.value = g.value("value", 0.0);
        else m.gauge.value = g.value("value", 0.0);
        f.metric.push_back(m);
      }
    }
    for (auto& [_, f] : families) out.push_back(std::move(f));
    return out;
  }

 private:
  MetricsExporter::Snapshot snapshot_;
  std::mutex& lock_;
};

}  // namespace

const char* counter_kind(const std::string& n) {
  auto starts = [&](const char* p) { return n.rfind(p, 0) == 0; };
  if (starts("drop_")) return "drop";
  if (starts("punt_")) return "punt";
  if (starts("pass_")) return "pass";
  if (starts("rx_")) return "rx";
  if (starts("nat_")) return "nat";
  // Events, not packets: they must not add to kind="forward" throughput.
  if (starts("natlog_")) return "log";
  if (starts("flow_cache_")) return "cache";
  if (starts("spread_")) return "spread";  // handed to another CPU, counted again there
  return "forward";
}

Result<std::unique_ptr<MetricsExporter>> MetricsExporter::start(const std::string& listen,
                                                               Snapshot snapshot,
                                                               std::mutex& lock) {
  std::unique_ptr<MetricsExporter> m(new MetricsExporter());
  try {
    // Each open connection holds one of civetweb's worker threads until its
    // request is in: enough workers that idle or slow clients leave some
    // for the scraper, and a short read timeout that sends them away (an
    // idle client used to hold a worker for civetweb's default 30 s).
    m->exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", listen, "num_threads", std::to_string(kMetricsWorkers), "request_timeout_ms",
        std::to_string(kMetricsRequestTimeoutMs), "enable_keep_alive", "no"});
  } catch (const std::exception& e) {
    return make_error("metrics: cannot listen on " + listen + ": " + e.what());
  }
  auto c = std::make_shared<SnapshotCollectable>(std::move(snapshot), lock);
  m->exposer_->RegisterCollectable(c);
  m->collectable_ = c;
  m->url_ = "http://" + listen + "/metrics";
  return m;
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace mapgw
