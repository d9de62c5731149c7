// The CE role at run time. start() derives the mapping (IPv4 address, PSID,
// port set, CE IPv6 address) from the rules and the End-user prefix, puts
// the CE address on the WAN interface, routes IPv4 into the slow-path
// device (default route by default), loads and fills the BPF maps, attaches
// the programs and starts the NAT sweeper (every second, and at once when
// the data plane reports the port set full). stop() undoes all of it.
#pragma once

#include <memory>
#include <optional>
#include <set>

#include "agent/ce/nat_log.h"
#include "agent/ce/nat_table.h"
#include "agent/daemon/role_service.h"
#include "agent/daemon/route_watch.h"
#include "agent/map/mapping.h"
#include "loader/ce_dataplane.h"

struct ring_buffer;

namespace mapgw {

class CeService : public RoleService {
 public:
  static Result<std::unique_ptr<CeService>> start(const Config& cfg);
  ~CeService() override;

  Status reload(const Config& cfg) override;
  Status reopen_logs() override;
  void stop() override;

  nlohmann::json status() const override;
  nlohmann::json rules() const override;
  nlohmann::json stats() const override;
  nlohmann::json metrics() const override;
  void add_commands(ControlServer& server) override;
  std::vector<int> event_fds() const override;
  void on_event(int fd) override;

  // The End-user prefix to use: configured, or the WAN interface's.
  static Result<Ipv6Prefix> end_user_prefix(const CeConfig& cfg);

 private:
  CeService(Config cfg, CeMapping mapping, CeDataplane dp)
      : cfg_(std::move(cfg)), mapping_(std::move(mapping)), dp_(std::move(dp)) {}
  Status prepare_host();
  Status reconcile_adopted_nat(const mapgw_ce_config& previous);
  Status flush_nat_after_mapping_change(uint64_t* flushed);
  Status apply(const Config& cfg);
  void sweep(bool urgent);
  nlohmann::json sessions(const nlohmann::json& req) const;
  // End-user prefix learned from the WAN interface changed (or may have):
  // re-derive the mapping and apply it without a restart.
  void on_prefix_change();
  nlohmann::json ports() const;

  Config cfg_;
  CeMapping mapping_;
  CeDataplane dp_;
  std::optional<RouteWatch> route_watch_;
  std::set<std::string> routes_;
  bool created_slow_path_ = false;
  bool added_ce_address_ = false;
  bool stopped_ = false;
  int timer_fd_ = -1;
  int netlink_fd_ = -1;  // RTMGRP_IPV6_IFADDR, when the prefix is "auto"
  uint64_t prefix_changes_ = 0, sessions_flushed_ = 0;
  std::unique_ptr<NatLogWriter> natlog_;
  uint64_t natlog_reopen_errors_ = 0;
  friend int on_natlog_event(void* ctx, void* data, size_t size);
  ring_buffer* events_ = nullptr;
  bool urgent_ = false;
  uint64_t last_urgent_ns_ = 0;
  uint64_t next_sweep_ns_ = 0;     // the periodic sweep's earliest next start
  uint64_t last_sweep_took_ns_ = 0;
  SweepResult last_sweep_;
  mutable uint64_t map_read_errors_ = 0;
  uint64_t sweeps_ = 0, urgent_sweeps_ = 0, sweep_errors_ = 0, expired_total_ = 0;
};

}  // namespace mapgw
