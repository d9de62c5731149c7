#include "loader/ce_dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "loader/attachments.h"
#include "loader/kernel_features.h"
#include "loader/map_ops.h"
#include "loader/pinning.h"
#include "loader/route_ctl.h"
#include "loader/skeleton.h"
#include "loader/spread.h"
#include "loader/tc_filter.h"
#include "mapgw_ce.skel.h"

namespace mapgw {

MAPGW_SKELETON_TRAITS(mapgw_ce);

struct CeDataplane::Impl {
  Skeleton<mapgw_ce_traits> skel;
  Attachments attached;
  Spreading spreading;
  bool adf_markers = false;
};

Result<CeDataplane> CeDataplane::load(uint32_t max_sessions, uint32_t ports_per_proto,
                                      uint64_t frag_timeout_ns, const std::string& pin_dir, bool adf_markers,
                                      uint32_t flow_cache_sets, std::span<const uint32_t> spread_cpus) {
  if (max_sessions < 1024) return make_error("max_sessions must be at least 1024");
  auto cache_entries = flow_cache_entries(flow_cache_sets);
  if (!cache_entries) return cache_entries.error();
  if (ports_per_proto == 0 || ports_per_proto > 65536) {
    return make_error("ports_per_proto must be 1..65536");
  }
  auto skel = Skeleton<mapgw_ce_traits>::open();
  if (!skel) return skel.error();
  auto* m = &skel->get()->maps;
  // Bindings never outnumber sessions; the outside half holds every session
  // (plus slack for a replacement in flight) and, with ADF, the markers.
  for (auto [map, n] : {std::pair{m->mapgw_nat_sessions, max_sessions},
                        {m->mapgw_nat_binds, max_sessions},
                        {m->mapgw_nat_rsessions,
                         adf_markers ? 2 * max_sessions : max_sessions + max_sessions / 8},
                        {m->mapgw_nat_ports, 3 * ports_per_proto + 1024 /* static NAPT */},
                        {m->mapgw_flow_cache, *cache_entries}}) {
    if (int err = bpf_map__set_max_entries(map, n)) {
      return make_error(std::string("sizing ") + bpf_map__name(map), -err);
    }
  }
  skel->get()->rodata->frag_timeout_ns = frag_timeout_ns;
  skel->get()->rodata->flow_cache_mask = flow_cache_sets - 1;
  if (auto st = set_kernel_rodata(skel->get()->rodata); !st) return st.error();
  auto* progs = &skel->get()->progs;
  if (auto st = prepare_spreading(skel->get(), progs->mapgw_ce_wan, progs->mapgw_ce_wanfan,
                                  progs->mapgw_ce_wancpu, progs->mapgw_ce_qdrops, spread_cpus);
      !st) {
    return st.error();
  }
  if (!pin_dir.empty()) {
    if (auto st = set_map_pins(skel->get()->obj, pin_dir); !st) return st.error();
    if (auto st = check_pinned_maps(skel->get()->obj); !st) {
      return make_error(st.error().describe() + " (in " + pin_dir + ": max_sessions, flow_cache_sets or the port set changed, or another version; stop with on_stop = \"detach\" "
                        "or remove that directory)");
    }
  }
  if (auto st = skel->load(); !st) return st.error();
  if (auto st = route_cache_enable(bpf_map__fd(skel->get()->maps.mapgw_route_ctl), true); !st) {
    return st.error();
  }
  auto spreading = start_spreading(skel->get(), progs->mapgw_ce_wancpu, progs->mapgw_ce_qdrops,
                               spread_cpus);
  if (!spreading) return spreading.error();
  return CeDataplane(std::make_unique<Impl>(
      Impl{std::move(*skel), Attachments(pin_dir), std::move(*spreading), adf_markers}));
}

CeDataplane::CeDataplane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CeDataplane::CeDataplane(CeDataplane&&) noexcept = default;
CeDataplane& CeDataplane::operator=(CeDataplane&&) noexcept = default;
CeDataplane::~CeDataplane() = default;

// Every change below invalidates the flow cache's copies (bpf/flow_cache.h)
// once it is in: a copy made before would still carry the old answer.
Status CeDataplane::set_config(const mapgw_ce_config& cfg) {
  uint32_t key = 0;
  if (auto st = map_update(bpf_map__fd(impl_->skel->maps.mapgw_ce_config), &key, &cfg,
                           "mapgw_ce_config");
      !st) {
    return st;
  }
  return route_cache_invalidate(route_ctl_fd());
}

Status CeDataplane::set_nat_policy(const mapgw_nat_policy& policy) {
  uint32_t key = 0;
  return map_update(bpf_map__fd(impl_->skel->maps.mapgw_nat_policy), &key, &policy, "mapgw_nat_policy");
}

Result<mapgw_ce_config> CeDataplane::config() const {
  uint32_t key = 0;
  mapgw_ce_config cfg{};
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.mapgw_ce_config), &key, &cfg) != 0) {
    return make_error("reading mapgw_ce_config", errno);
  }
  return cfg;
}

Status CeDataplane::replace_fmrs(std::span<const mapgw_br_rule> rules) {
  auto* m = &impl_->skel->maps;
  if (auto st = replace_rule_maps(bpf_map__fd(m->mapgw_rules_v4), bpf_map__fd(m->mapgw_rules_v6),
                                  bpf_map__fd(m->mapgw_rule_lens), rules);
      !st) {
    return st;
  }
  return route_cache_invalidate(route_ctl_fd());
}

Status CeDataplane::replace_tx_ports(std::span<const uint32_t> ifindexes) {
  if (auto st = replace_devmap(bpf_map__fd(impl_->skel->maps.mapgw_tx_ports), ifindexes); !st) {
    return st;
  }
  if (auto st = write_own_macs(bpf_map__fd(impl_->skel->maps.mapgw_own_macs), ifindexes); !st) return st;
  return route_cache_invalidate(route_ctl_fd());
}

// Static entries are a binding plus its owner entry, both flagged static so
// the sweeper never expires them. Stale static entries are removed.
Status CeDataplane::replace_static_napt(std::span<const StaticNapt> entries) {
  const NatMaps m = nat_maps();
  std::vector<mapgw_nat_port_key> keep_ports;
  std::vector<mapgw_nat_bind_key> keep_binds;
  for (const auto& e : entries) {
    mapgw_nat_port_key pk{};
    pk.ext_port = htons(e.ext_port);
    pk.proto = e.proto;
    mapgw_nat_port pv{};
    pv.in_addr = htonl(e.in_addr);
    pv.in_port = htons(e.in_port);
    pv.flags = MAPGW_NAT_F_STATIC;
    mapgw_nat_bind_key bk{};
    bk.addr = pv.in_addr;
    bk.port = pv.in_port;
    bk.proto = e.proto;
    mapgw_nat_bind bv{};
    bv.ext_port = pk.ext_port;
    bv.flags = MAPGW_NAT_F_STATIC;
    if (auto st = map_update(m.ports, &pk, &pv, "mapgw_nat_ports"); !st) return st;
    if (auto st = map_update(m.binds, &bk, &bv, "mapgw_nat_binds"); !st) return st;
    keep_ports.push_back(pk);
    keep_binds.push_back(bk);
  }
  // Remove static entries no longer configured (dynamic ones are the sweeper's).
  mapgw_nat_port_key pk{}, pnext{};
  mapgw_nat_port pv{};
  std::vector<mapgw_nat_port_key> stale_ports;
  bool first = true;
  while (bpf_map_get_next_key(m.ports, first ? nullptr : &pk, &pnext) == 0) {
    first = false;
    pk = pnext;
    if (bpf_map_lookup_elem(m.ports, &pk, &pv) == 0 && (pv.flags & MAPGW_NAT_F_STATIC)) {
      bool keep = false;
      for (const auto& k : keep_ports) keep |= k.ext_port == pk.ext_port && k.proto == pk.proto;
      if (!keep) stale_ports.push_back(pk);
    }
  }
  for (const auto& k : stale_ports) {
    if (bpf_map_lookup_elem(m.ports, &k, &pv) != 0) continue;
    mapgw_nat_bind_key bk{};
    bk.addr = pv.in_addr;
    bk.port = pv.in_port;
    bk.proto = k.proto;
    bpf_map_delete_elem(m.binds, &bk);
    bpf_map_delete_elem(m.ports, &k);
  }
  return route_cache_invalidate(route_ctl_fd());
}

Status CeDataplane::replace_filter(std::span<const mapgw_filter_rule> rules) {
  if (rules.size() > MAPGW_MAX_FILTER_RULES) {
    return make_error("at most " + std::to_string(MAPGW_MAX_FILTER_RULES) + " filter rules");
  }
  const int fd = bpf_map__fd(impl_->skel->maps.mapgw_filter);
  // Write the new list, then mark the end. A packet that races the update
  // sees a list that is partly old and partly new, never a hole.
  for (uint32_t i = 0; i < MAPGW_MAX_FILTER_RULES; ++i) {
    mapgw_filter_rule r{};
    if (i < rules.size()) {
      r = rules[i];
      r.used = 1;
    }
    if (auto st = map_update(fd, &i, &r, "mapgw_filter"); !st) return st;
  }
  return route_cache_invalidate(route_ctl_fd());
}

Status CeDataplane::attach(const CeAttachConfig& cfg) {
  auto* p = &impl_->skel->progs;
  auto& a = impl_->attached;
  if (auto st = a.add_xdp(bpf_program__fd(p->mapgw_ce_lan), cfg.lan_interface, cfg.xdp_mode); !st) return st;
  if (auto st = a.add_xdp(prog_fd(CeProgram::kXdpWan), cfg.wan_interface, cfg.xdp_mode); !st) return st;
  if (auto st = a.add_tc(bpf_program__fd(p->mapgw_ce_tc_wan), cfg.wan_interface, TcDirection::kIngress);
      !st) {
    return st;
  }
  return a.add_tc(bpf_program__fd(p->mapgw_ce_tc_encap), cfg.slow_path_interface, TcDirection::kEgress);
}

void CeDataplane::detach() { impl_->attached.detach(); }

void CeDataplane::release() { impl_->attached.release(); }

bool CeDataplane::attached() const { return !impl_->attached.empty(); }

bpf_program* CeDataplane::program(CeProgram p) const {
  auto* progs = &impl_->skel->progs;
  switch (p) {
    case CeProgram::kXdpLan:
      return progs->mapgw_ce_lan;
    case CeProgram::kXdpWan:
      return impl_->spreading.on() ? progs->mapgw_ce_wanfan : progs->mapgw_ce_wan;
    case CeProgram::kTcWan:
      return progs->mapgw_ce_tc_wan;
    case CeProgram::kTcEncap:
      return progs->mapgw_ce_tc_encap;
  }
  return nullptr;
}

int CeDataplane::prog_fd(CeProgram p) const { return bpf_program__fd(program(p)); }

const char* CeDataplane::prog_name(CeProgram p) const { return bpf_program__name(program(p)); }

std::span<const uint32_t> CeDataplane::spread_cpus() const { return impl_->spreading.cpus; }

int CeDataplane::route_ctl_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_route_ctl); }

int CeDataplane::counters_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_counters); }
int CeDataplane::events_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_events); }
int CeDataplane::nat_log_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_nat_log); }

NatMaps CeDataplane::nat_maps() const {
  auto* m = &impl_->skel->maps;
  NatMaps n;
  n.binds = bpf_map__fd(m->mapgw_nat_binds);
  n.ports = bpf_map__fd(m->mapgw_nat_ports);
  n.sessions = bpf_map__fd(m->mapgw_nat_sessions);
  n.rsessions = bpf_map__fd(m->mapgw_nat_rsessions);
  n.host_created = bpf_map__fd(m->mapgw_nat_host_created);
  n.host_deleted = bpf_map__fd(m->mapgw_nat_host_deleted);
  n.host_bound = bpf_map__fd(m->mapgw_nat_host_bound);
  n.host_unbound = bpf_map__fd(m->mapgw_nat_host_unbound);
  n.route_ctl = route_ctl_fd();
  n.adf_markers = impl_->adf_markers;
  return n;
}

}  // namespace mapgw
