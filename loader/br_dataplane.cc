#include "loader/br_dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "loader/map_ops.h"
#include "loader/skeleton.h"
#include "loader/tc_filter.h"
#include "mapgw_br.skel.h"

namespace mapgw {

MAPGW_SKELETON_TRAITS(mapgw_br);

struct BrDataplane::Impl {
  Skeleton<mapgw_br_traits> skel;
  std::vector<XdpLink> xdp;
  std::vector<TcFilter> tc;
};

mapgw_lpm4_key lpm4_key_of(const mapgw_rule& r) {
  mapgw_lpm4_key k{};
  k.prefixlen = r.ipv4_len;
  uint32_t be = htonl(r.ipv4_prefix);
  std::memcpy(k.addr, &be, 4);
  return k;
}

mapgw_lpm6_key lpm6_key_of(const mapgw_rule& r) {
  mapgw_lpm6_key k{};
  k.prefixlen = r.ipv6_len;
  for (int i = 0; i < 8; ++i) {
    k.addr[i] = static_cast<uint8_t>(r.ipv6_prefix.hi >> (56 - 8 * i));
    k.addr[8 + i] = static_cast<uint8_t>(r.ipv6_prefix.lo >> (56 - 8 * i));
  }
  return k;
}

Result<BrDataplane> BrDataplane::load(uint64_t frag_timeout_ns) {
  auto skel = Skeleton<mapgw_br_traits>::open();
  if (!skel) return skel.error();
  skel->get()->rodata->frag_timeout_ns = frag_timeout_ns;
  if (auto st = skel->load(); !st) return st.error();
  return BrDataplane(std::make_unique<Impl>(Impl{std::move(*skel), {}, {}}));
}

BrDataplane::BrDataplane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BrDataplane::BrDataplane(BrDataplane&&) noexcept = default;
BrDataplane& BrDataplane::operator=(BrDataplane&&) noexcept = default;
BrDataplane::~BrDataplane() = default;

Status BrDataplane::replace_rules(std::span<const mapgw_br_rule> rules) {
  if (rules.size() > MAPGW_RULE_LIMIT) {
    return make_error(std::to_string(rules.size()) + " rules: a BR holds at most " +
                      std::to_string(MAPGW_RULE_LIMIT));
  }
  auto* maps = &impl_->skel->maps;
  const int fd4 = bpf_map__fd(maps->mapgw_rules_v4), fd6 = bpf_map__fd(maps->mapgw_rules_v6);
  std::vector<mapgw_lpm4_key> keys4;
  std::vector<mapgw_lpm6_key> keys6;
  for (const auto& r : rules) {
    auto k4 = lpm4_key_of(r.rule);
    auto k6 = lpm6_key_of(r.rule);
    if (auto st = map_update(fd4, &k4, &r, "mapgw_rules_v4"); !st) return st;
    if (auto st = map_update(fd6, &k6, &r, "mapgw_rules_v6"); !st) return st;
    keys4.push_back(k4);
    keys6.push_back(k6);
  }
  if (auto st = map_delete_except(fd4, keys4, "mapgw_rules_v4"); !st) return st;
  if (auto st = map_delete_except(fd6, keys6, "mapgw_rules_v6"); !st) return st;
  rule_count_ = rules.size();
  return Status::Ok();
}

Status BrDataplane::replace_br_addresses(std::span<const std::array<uint8_t, 16>> addrs) {
  const int fd = bpf_map__fd(impl_->skel->maps.mapgw_br_addrs);
  std::vector<std::array<uint8_t, 16>> keys(addrs.begin(), addrs.end());
  uint32_t one = 1;
  for (const auto& a : keys) {
    if (auto st = map_update(fd, a.data(), &one, "mapgw_br_addrs"); !st) return st;
  }
  return map_delete_except(fd, keys, "mapgw_br_addrs");
}

Status BrDataplane::replace_tx_ports(std::span<const uint32_t> ifindexes) {
  const int fd = bpf_map__fd(impl_->skel->maps.mapgw_tx_ports);
  std::vector<uint32_t> keys(ifindexes.begin(), ifindexes.end());
  for (uint32_t ifi : keys) {
    if (auto st = map_update(fd, &ifi, &ifi, "mapgw_tx_ports"); !st) return st;
  }
  return map_delete_except(fd, keys, "mapgw_tx_ports");
}

Status BrDataplane::set_config(const mapgw_br_config& cfg) {
  uint32_t key = 0;
  return map_update(bpf_map__fd(impl_->skel->maps.mapgw_br_config), &key, &cfg,
                    "mapgw_br_config");
}

Status BrDataplane::attach(const BrAttachConfig& cfg) {
  auto* progs = &impl_->skel->progs;
  auto v4 = XdpLink::attach(bpf_program__fd(progs->mapgw_br_v4), cfg.ipv4_interface, cfg.xdp_mode);
  if (!v4) return v4.error();
  auto v6 = XdpLink::attach(bpf_program__fd(progs->mapgw_br_v6), cfg.ipv6_interface, cfg.xdp_mode);
  if (!v6) return v6.error();
  auto tc6 = TcFilter::attach(bpf_program__fd(progs->mapgw_br_tc_v6), cfg.ipv6_interface,
                              TcDirection::kIngress);
  if (!tc6) return tc6.error();
  auto enc = TcFilter::attach(bpf_program__fd(progs->mapgw_br_tc_encap), cfg.slow_path_interface,
                              TcDirection::kEgress);
  if (!enc) return enc.error();
  impl_->xdp.push_back(std::move(*v4));
  impl_->xdp.push_back(std::move(*v6));
  impl_->tc.push_back(std::move(*tc6));
  impl_->tc.push_back(std::move(*enc));
  return Status::Ok();
}

void BrDataplane::detach() {
  impl_->xdp.clear();
  impl_->tc.clear();
}

bool BrDataplane::attached() const { return !impl_->xdp.empty(); }

int BrDataplane::prog_fd(BrProgram p) const {
  auto* progs = &impl_->skel->progs;
  switch (p) {
    case BrProgram::kXdpV4:
      return bpf_program__fd(progs->mapgw_br_v4);
    case BrProgram::kXdpV6:
      return bpf_program__fd(progs->mapgw_br_v6);
    case BrProgram::kTcV6:
      return bpf_program__fd(progs->mapgw_br_tc_v6);
    case BrProgram::kTcEncap:
      return bpf_program__fd(progs->mapgw_br_tc_encap);
  }
  return -1;
}

int BrDataplane::counters_fd() const { return bpf_map__fd(impl_->skel->maps.mapgw_counters); }

}  // namespace mapgw
