// The BR role at run time: turns a validated Config into a working relay and
// back. start() prepares the host (forwarding, the slow-path veth pair and
// the kernel routes that send MAP-domain IPv4 traffic through it), loads and
// fills the BPF maps and attaches the programs; reload() applies a new rule
// set; stop() undoes all of it. status()/rules()/stats() feed mapgwctl.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "loader/result.h"
#include "agent/br/rule_history.h"
#include "agent/config/config.h"
#include "agent/daemon/role_service.h"
#include "agent/daemon/route_watch.h"
#include "loader/br_dataplane.h"

namespace mapgw {

class BrService : public RoleService {
 public:
  static Result<std::unique_ptr<BrService>> start(const Config& cfg);
  ~BrService() override;  // stop()

  // Applies the rules, domains and ICMP source of @cfg. Interfaces and the
  // instance cannot change without a restart; such a change is rejected.
  Status reload(const Config& cfg) override;
  void stop() override;

  nlohmann::json status() const override;
  nlohmann::json rules() const override;
  nlohmann::json stats() const override;
  nlohmann::json metrics() const override;
  void add_commands(ControlServer& server) override;
  std::vector<int> event_fds() const override;
  void on_event(int fd) override;

 private:
  BrService(Config cfg, BrDataplane dp, RuleHistory history)
      : cfg_(std::move(cfg)), dp_(std::move(dp)), history_(std::move(history)) {}
  Status prepare_host();
  Status apply(const Config& cfg);
  Status sync_routes(const Config& cfg);

  Config cfg_;
  BrDataplane dp_;
  RuleHistory history_;
  std::optional<RouteWatch> route_watch_;
  std::set<std::string> routes_;  // IPv4 prefixes routed to the slow path
  bool created_slow_path_ = false;
  bool stopped_ = false;
  mutable uint64_t map_read_errors_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace mapgw
