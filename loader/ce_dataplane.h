// The CE's BPF side as one object: the mapgw_ce programs and maps, the
// operations the agent needs (own mapping, FMRs, static NAPT, packet
// filter, egress ports) and the attachments:
//   XDP mapgw_ce_lan on the LAN interface, XDP mapgw_ce_wan on the WAN
//   interface, TC ingress mapgw_ce_tc_wan on the WAN interface (slow path
//   decap) and TC egress mapgw_ce_tc_encap on the slow-path device.
// NAT state is read and expired by the agent (agent/ce/nat_sweeper) through
// the map descriptors in NatMaps.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "loader/result.h"
#include "loader/xdp_link.h"
#include "mapgw_abi.h"

struct bpf_program;

namespace mapgw {

struct CeAttachConfig {
  std::string lan_interface;
  std::string wan_interface;
  std::string slow_path_interface;
  XdpMode xdp_mode = XdpMode::kNative;
};

// The NAT maps, by file descriptor (owned by CeDataplane).
struct NatMaps {
  int binds = -1;
  int ports = -1;
  int sessions = -1;
  int rsessions = -1;
  int host_created = -1;
  int host_deleted = -1;
  int host_bound = -1;    // bindings per LAN host, made (BPF) ...
  int host_unbound = -1;  // ... and removed (the sweeper, flush_nat)
  // The route cache switch, whose epoch also retires flow-cache copies
  // (bpf/flow_cache.h): moved after state is flushed. -1: not moved.
  int route_ctl = -1;
  // Address-dependent filtering: the outside half also holds its markers.
  bool adf_markers = false;
};

struct StaticNapt {
  uint8_t proto = 0;
  uint16_t ext_port = 0;  // host order
  uint32_t in_addr = 0;   // host order
  uint16_t in_port = 0;   // host order
};

enum class CeProgram { kXdpLan, kXdpWan, kTcWan, kTcEncap };

class CeDataplane {
 public:
  // @max_sessions sizes the session tables (both halves) and @ports_per_proto
  // the port-owner table (the own set's size; 65536 without sharing) before
  // load. Preallocated hash maps cost time to create: size them to need.
  // @pin_dir: where maps and links are pinned ("" = nothing pinned). Maps
  // pinned there by a previous run are reused, NAT sessions included.
  // @adf_markers: address-dependent filtering keeps a marker per (inside
  // endpoint, remote address) in the outside table, which then gets twice
  // the room; otherwise it holds the sessions plus 1/8 slack.
  // @flow_cache_sets: the flow cache's sets per CPU (check_flow_cache_sets).
  // @spread_cpus: spread what the BR sends over these CPUs by inner flow
  // (bpf/spread.h; online, distinct: check_cpus_online); empty: off, and
  // the WAN's entry program is the plain mapgw_ce_wan.
  static Result<CeDataplane> load(uint32_t max_sessions, uint32_t ports_per_proto,
                                  uint64_t frag_timeout_ns, const std::string& pin_dir = "",
                                  bool adf_markers = false,
                                  uint32_t flow_cache_sets = MAPGW_FLOW_CACHE_SETS,
                                  std::span<const uint32_t> spread_cpus = {});

  Status set_config(const mapgw_ce_config& cfg);
  // What set_config() last wrote: this run's, or (pinned maps adopted) the
  // previous run's; all zero on a fresh load.
  Result<mapgw_ce_config> config() const;
  // NAT settings beside the config (the per-host share of the port set).
  Status set_nat_policy(const mapgw_nat_policy& policy);
  Status replace_fmrs(std::span<const mapgw_br_rule> rules);
  // The egress ports, in side order (CE: LAN, WAN; BR: IPv4, IPv6); their
  // link-layer addresses become the ones frames must be sent to
  // (mapgw_own_macs: anything else is left to the kernel).
  Status replace_tx_ports(std::span<const uint32_t> ifindexes);
  Status replace_static_napt(std::span<const StaticNapt> entries);
  Status replace_filter(std::span<const mapgw_filter_rule> rules);

  // Attaches, or, when a previous run left the programs attached (pinned
  // links), swaps this load's programs in atomically.
  Status attach(const CeAttachConfig& cfg);
  // Detach everything and remove the pins (state is gone afterwards).
  void detach();
  // Leave everything attached and pinned: the data plane keeps forwarding
  // without a daemon, and the next start adopts it.
  void release();
  bool attached() const;

  // kXdpWan: the WAN's entry program (mapgw_ce_wanfan when spreading).
  int prog_fd(CeProgram p) const;
  const char* prog_name(CeProgram p) const;
  // The CPUs receive spreading uses; empty: off.
  std::span<const uint32_t> spread_cpus() const;
  int counters_fd() const;
  // The route cache switch (loader/route_ctl.h); on after load.
  int route_ctl_fd() const;
  int events_fd() const;
  int nat_log_fd() const;
  NatMaps nat_maps() const;

  CeDataplane(CeDataplane&&) noexcept;
  CeDataplane& operator=(CeDataplane&&) noexcept;
  ~CeDataplane();

 private:
  struct Impl;
  bpf_program* program(CeProgram p) const;
  explicit CeDataplane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapgw
