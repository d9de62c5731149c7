#include "agent/daemon/check_kernel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <span>
#include <tuple>
#include <iostream>
#include <string>
#include <vector>

#include "loader/br_dataplane.h"
#include "loader/ce_dataplane.h"
#include "loader/kernel_features.h"
#include "loader/kernel_hz.h"
#include "loader/verifier_log.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

// A CE of the v6プラス shape (240 ports per protocol) with the default
// tables, ADF markers on; both roles spread over CPU 0.
constexpr uint32_t kCePorts = 240;
constexpr uint32_t kCeSessions = 65536;
constexpr uint64_t kFragTimeoutNs = 5'000'000'000ULL;
constexpr uint32_t kSpreadCpus[] = {0};

struct ObjectResult {
  std::string object;
  std::string error;  // empty: every program loaded
};

}  // namespace

int check_kernel(bool json) {
  const std::string release = kernel_release();
  nlohmann::json report = {{"kernel", release}};
  const auto missing = missing_kernel_requirements();
  if (!missing.empty()) {
    const std::string line = describe_missing(release, missing);
    if (json) {
      report["missing"] = line;
      std::cout << json_text(report) << "\n";
    } else {
      std::cout << "mapgw: " << line << "\n";
    }
    return 1;
  }
  auto hz = kernel_hz();
  auto adapt = kernel_adaptations();
  if (!hz || !adapt) {
    std::cerr << "mapgw: " << (!hz ? hz.error() : adapt.error()).describe() << "\n";
    return 1;
  }
  report["hz"] = hz->hz;
  report["hz_source"] = std::string(hz->source);
  report["fib_skip_neigh"] = adapt->fib_skip_neigh;

  // Each role twice: its entry programs alone, then with spreading (which
  // swaps the IPv6-side entry for its fan-out and CPU-map pair).
  collect_verifier_stats(true);
  std::vector<ObjectResult> objects;
  for (std::span<const uint32_t> spread : {std::span<const uint32_t>(), std::span<const uint32_t>(kSpreadCpus)}) {
    auto ce = CeDataplane::load(kCeSessions, kCePorts, kFragTimeoutNs, "", true,
                                MAPGW_FLOW_CACHE_SETS, spread);
    objects.push_back({"mapgw_ce", ce ? "" : ce.error().describe()});
    auto br = BrDataplane::load(kFragTimeoutNs, "", MAPGW_FLOW_CACHE_SETS, spread);
    objects.push_back({"mapgw_br", br ? "" : br.error().describe()});
  }
  std::vector<ProgramStats> stats;
  for (auto& s : take_verifier_stats()) {
    auto same = [&](const ProgramStats& t) { return t.object == s.object && t.program == s.program; };
    if (std::find_if(stats.begin(), stats.end(), same) == stats.end()) stats.push_back(std::move(s));
  }
  // mapgw_ce before mapgw_br, programs by name.
  std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) {
    return std::tie(b.object, a.program) < std::tie(a.object, b.program);
  });
  bool ok = true;
  for (const auto& o : objects) ok = ok && o.error.empty();

  if (json) {
    report["programs"] = nlohmann::json::array();
    for (const auto& s : stats) {
      report["programs"].push_back({{"object", s.object},
                                    {"program", s.program},
                                    {"processed_insns", s.processed_insns},
                                    {"xlated_insns", s.xlated_insns},
                                    {"verify_us", s.verify_us}});
    }
    report["rejected"] = nlohmann::json::array();
    for (const auto& o : objects) {
      if (!o.error.empty()) report["rejected"].push_back({{"object", o.object}, {"error", o.error}});
    }
    report["ok"] = ok;
    std::cout << json_text(report, 2) << "\n";
    return ok ? 0 : 1;
  }
  std::printf("kernel %s: HZ %u (%s), BPF_FIB_LOOKUP_SKIP_NEIGH %s\n", release.c_str(), hz->hz,
              std::string(hz->source).c_str(),
              adapt->fib_skip_neigh ? "yes" : "no (lookups resolve the neighbour too)");
  std::printf("%-10s %-20s %10s %8s %10s\n", "object", "program", "processed", "loaded", "verify ms");
  for (const auto& s : stats) {
    std::printf("%-10s %-20s %10u %8u %10.1f\n", s.object.c_str(), s.program.c_str(), s.processed_insns,
                s.xlated_insns, s.verify_us / 1000.0);
  }
  for (const auto& o : objects) {
    if (!o.error.empty()) std::printf("%s: %s\n", o.object.c_str(), o.error.c_str());
  }
  std::printf("%s\n", ok ? "every program loaded" : "REJECTED: mapgw cannot run on this kernel");
  return ok ? 0 : 1;
}

}  // namespace mapgw
