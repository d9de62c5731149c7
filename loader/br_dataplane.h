// The BR's BPF side as one object: the mapgw_br programs and maps loaded
// into the kernel, the operations the agent needs on them (replace rules,
// BR addresses, egress ports, run-time config) and the attachments:
//   XDP mapgw_br_v4 on the IPv4 interface, XDP mapgw_br_v6 on the IPv6
//   interface, TC ingress mapgw_br_tc_v6 on the IPv6 interface (slow path
//   decap) and TC egress mapgw_br_tc_encap on the slow-path device.
// It speaks only kernel ABI structs (bpf/mapgw_abi.h); turning config into
// those is the agent's job.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loader/result.h"
#include "loader/xdp_link.h"
#include "mapgw_abi.h"

struct bpf_program;

namespace mapgw {

struct BrAttachConfig {
  std::string ipv4_interface;
  std::string ipv6_interface;
  std::string slow_path_interface;  // the kernel's route into the MAP domain
  XdpMode xdp_mode = XdpMode::kNative;
};

enum class BrProgram { kXdpV4, kXdpV6, kTcV6, kTcEncap };

class BrDataplane {
 public:
  // @pin_dir: where maps and links are pinned ("" = nothing pinned). Maps
  // pinned there by a previous run are reused, sessions and counters included.
  // @flow_cache_sets: the encapsulation flow cache's sets per CPU
  // (check_flow_cache_sets).
  // @spread_cpus: spread CE traffic over these CPUs by inner flow
  // (bpf/spread.h; online, distinct: check_cpus_online); empty: off, and the
  // IPv6 side's entry program is the plain mapgw_br_v6.
  static Result<BrDataplane> load(uint64_t frag_timeout_ns, const std::string& pin_dir = "",
                                  uint32_t flow_cache_sets = MAPGW_FLOW_CACHE_SETS,
                                  std::span<const uint32_t> spread_cpus = {});

  // Install exactly these rules; stale ones are removed after the new ones
  // are in, so a lookup never finds a hole for a key present in both sets.
  Status replace_rules(std::span<const mapgw_br_rule> rules);
  Status replace_br_addresses(std::span<const std::array<uint8_t, 16>> addrs);
  // The egress ports, in side order (CE: LAN, WAN; BR: IPv4, IPv6); their
  // link-layer addresses become the ones frames must be sent to
  // (mapgw_own_macs: anything else is left to the kernel).
  Status replace_tx_ports(std::span<const uint32_t> ifindexes);
  Status set_config(const mapgw_br_config& cfg);

  // Attaches, or, when a previous run left the programs attached (pinned
  // links), swaps this load's programs in atomically.
  Status attach(const BrAttachConfig& cfg);
  // Detach everything and remove the pins (state is gone afterwards).
  void detach();
  // Leave everything attached and pinned: the data plane keeps forwarding
  // without a daemon, and the next start adopts it.
  void release();
  bool attached() const;

  // kXdpV6: the IPv6 side's entry program (mapgw_br_v6fan when
  // spreading is on).
  int prog_fd(BrProgram p) const;
  const char* prog_name(BrProgram p) const;
  // The CPUs receive spreading uses; empty: off.
  std::span<const uint32_t> spread_cpus() const;
  int counters_fd() const;
  // The route cache switch (loader/route_ctl.h); on after load.
  int route_ctl_fd() const;
  size_t rule_count() const { return rule_count_; }

  BrDataplane(BrDataplane&&) noexcept;
  BrDataplane& operator=(BrDataplane&&) noexcept;
  ~BrDataplane();

 private:
  struct Impl;
  bpf_program* program(BrProgram p) const;
  explicit BrDataplane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  size_t rule_count_ = 0;
};

}  // namespace mapgw
