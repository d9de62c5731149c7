#include "loader/br_dataplane.h"

#include <bpf/bpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "loader/attachments.h"
#include "loader/kernel_features.h"
#include "loader/map_ops.h"
#include "loader/pinning.h"
#include "loader/route_ctl.h"
#include "loader/skeleton.h"
#include "loader/spread.h"
#include "loader/tc_filter.h"
#include "mapgw_br.skel.h"

namespace mapgw {

MAPGW_SKELETON_TRAITS(mapgw_br);

struct BrDataplane::Impl {
  Skeleton<mapgw_br_traits> skel;
  Attachments attached;
  Spreading spreading;
};

Result<BrDataplane> BrDataplane::load(uint64_t frag_timeout_ns, const std::string& pin_dir,
                                      uint32_t flow_cache_sets, std::span<const uint32_t> spread_cpus) {
  auto cache_entries = flow_cache_entries(flow_cache_sets);
  if (!cache_entries) return cache_entries.error();
  auto skel = Skeleton<mapgw_br_traits>::open();
  if (!skel) return skel.error();
  if (int err = bpf_map__set_max_entries(skel->get()->maps.mapgw_br_flow_cache, *cache_entries)) {
    return make_error("sizing mapgw_br_flow_cache", -err);
  }
  skel->get()->rodata->frag_timeout_ns = frag_timeout_ns;
  skel->get()->rodata->flow_cache_mask = flow_cache_sets - 1;
  if (auto st = set_kernel_rodata(skel->get()->rodata); !st) return st.error();
  auto* progs = &skel->get()->progs;
  if (auto st = prepare_spreading(skel->get(), progs->mapgw_br_v6, progs->mapgw_br_v6fan,
                                  progs->mapgw_br_v6cpu, progs->mapgw_br_qdrops, spread_cpus);
      !st) {
    return st.error();
  }
  if (!pin_dir.empty()) {
    if (auto st = set_map_pins(skel->get()->obj, pin_dir); !st) return st.error();
    if (auto st = check_pinned_maps(skel->get()->obj); !st) {
      return make_error(st.error().describe() + " (in " + pin_dir + ": flow_cache_sets changed, or another version; stop with on_stop = \"detach\" "
                        "or remove that directory)");
    }
  }
  if (auto st = skel->load(); !st) return st.error();
  if (auto st = route_cache_enable(bpf_map__fd(skel->get()->maps.mapgw_route_ctl), true); !st) {
    return st.error();
  }
  auto spreading = start_spreading(skel->get(), progs->mapgw_br_v6cpu, progs->mapgw_br_qdrops,
                               spread_cpus);
  if (!spreading) return spreading.error();
  return BrDataplane(std::make_unique<Impl>(Impl{std::move(*skel), Attachments(pin_dir), std::move(*spreading)}));
}

BrDataplane::BrDataplane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BrDataplane::BrDataplane(BrDataplane&&) noexcept = default;
BrDataplane& BrDataplane::operator=(BrDataplane&&) noexcept = default;
BrDataplane::~BrDataplane() = default;

// Every change below invalidates the encapsulation flow cache's copies
// (bpf/flow_cache.h) once it is in.
Status BrDataplane::replace_rules(std::span<const mapgw_br_rule> rules) {
  auto* maps = &impl_->skel->maps;
  auto st = replace_rule_maps(bpf_map__fd(maps->mapgw_rules_v4), bpf_map__fd(maps->mapgw_rules_v6),
                              bpf_map__fd(maps->mapgw_rule_lens), rules);
  if (!st) return st;
  rule_count_ = rules.size();
  return route_cache_invalidate(route_ctl_fd());
}

Status BrDataplane::replace_br_addresses(std::span<const std::array<uint8_t, 16>> addrs) {
  const int fd = bpf_map__fd(impl_->skel->maps.mapgw_br_addrs);
  std::vector<std::array<uint8_t, 16>> keys(addrs.begin(), addrs.end());
  uint32_t one = 1;
  for (const auto& a : keys) {
    if (auto st = map_update(fd, a.data(), &one, "mapgw_br_addrs"); !st) return st;
  }
  if (auto st = map_delete_except(fd, keys, "mapgw_br_addrs"); !st) return st;
  return route_cache_invalidate(route_ctl_fd());
}

Status BrDataplane::replace_tx_ports(std::span<const uint32_t> ifindexes) {
  if (auto st = replace_devmap(bpf_map__fd(impl_->skel->maps.mapgw_tx_ports), ifindexes); !st) {
    return st;
  }
  if (auto st = write_own_macs(bpf_map__fd(impl_->skel->maps.mapgw_own_macs), ifindexes); !st) return st;
  return route_cache_invalidate(route_ctl_fd());
}

Status BrDataplane::set_config(const mapgw_br_config& cfg) {
  uint32_t key = 0;
  if (auto st = map_update(bpf_map__fd(impl_->skel->maps.mapgw_br_config), &key, &cfg,
                           "mapgw_br_config");
      !st) {
    return st;
  }
  return route_cache_invalidate(route_ctl_fd());
}

Status BrDataplane::attach(const BrAttachConfig& cfg) {
  auto* p = &impl_->skel->progs;
  auto& a = impl_->attached;
  if (auto st = a.add_xdp(bpf_program__fd(p->mapgw_br_v4), cfg.ipv4_interface, cfg.xdp_mode); !st) return st;
  if (auto st = a.add_xdp(prog_fd(BrProgram::kXdpV6), cfg.ipv6_interface, cfg.xdp_mode); !st) return st;
  if (auto st = a.add_tc(bpf_program__fd(p->mapgw_br_tc_v6), cfg.ipv6_interface, TcDirection::kIngress);
      !st) {
    return st;
  }
  return a.add_tc(bpf_program__fd(p->mapgw_br_tc_encap), cfg.slow_path_interface, TcDirection::kEgress);
}

void BrDataplane::detach() { impl_->attached.detach(); }

void BrDataplane::release() { impl_->attached.release(); }

bool BrDataplane::attached() const { return !impl_->attached.empty(); }

bpf_program* BrDataplane::program(BrProgram p) const {
  auto* progs = &impl_->skel->progs;
  switch (p) {
    case BrProgram::kXdpV4:
      return progs->mapgw_br_v4;
    case BrProgram::kXdpV6:
      return impl_->spreading.on() ? progs->mapgw_br_v6fan : progs->mapgw_br_v6;
    case BrProgram::kTcV6:
      return progs->mapgw_br_tc_v6;
    case BrProgram::kTcEncap:
      return progs->mapgw_br_tc_encap;
  }
  return nullptr;
}

int BrDataplane::prog_fd(BrProgram p) const { return bpf_program__fd(program(p)); }

const char* BrDataplane::prog_name(BrProgram p) const { return bpf_program__name(program(p)); }

std::span<const uint32_t> BrDataplane::spread_cpus() const { return impl_->spreading.cpus; }

int BrDataplane::route_ctl_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_route_ctl); }

int BrDataplane::counters_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_counters); }

}  // namespace mapgw
