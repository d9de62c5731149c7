#include "agent/daemon/ce_service.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <ifaddrs.h>
#include <spdlog/spdlog.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "agent/br/br_rule.h"
#include "agent/config/cpu_list.h"
#include "agent/daemon/host_net.h"
#include "loader/pinning.h"
#include "agent/daemon/counters_json.h"

namespace mapgw {
namespace {

// The per-host share of the port set as a number of ports (at least one);
// a share of 100 % is no limit.
mapgw_nat_policy nat_policy(const CeConfig& c, size_t ports) {
  mapgw_nat_policy p{};
  if (c.host_port_share < 100) {
    p.host_port_limit = static_cast<uint32_t>(std::max<size_t>(1, (ports * c.host_port_share + 99) / 100));
  }
  return p;
}

// The periodic NAT sweep: every second (the timer's tick, less some slack
// for its jitter), or kSweepDuty times as long as the last sweep took.
constexpr uint64_t kSweepEvery = 1'000'000'000ULL;
constexpr uint64_t kSweepSlack = 100'000'000ULL;
constexpr uint64_t kSweepDuty = 20;

nlohmann::json ranges_json(const PortSet& ps) {
  nlohmann::json r = nlohmann::json::array();
  for (const auto& x : ps.ranges()) r.push_back({x.lo, x.hi});
  return r;
}

NatTimeouts to_timeouts(const NatTimeoutConfig& c) {
  return {c.udp_s, c.tcp_established_s, c.tcp_transitory_s, c.icmp_s};
}

int on_bpf_event(void* ctx, void* data, size_t size) {
  if (size >= sizeof(mapgw_event) &&
      static_cast<mapgw_event*>(data)->type == MAPGW_EVENT_PORTS_EXHAUSTED) {
    *static_cast<bool*>(ctx) = true;
  }
  return 0;
}

}  // namespace

int on_natlog_event(void* ctx, void* data, size_t size) {
  auto* svc = static_cast<CeService*>(ctx);
  if (svc->natlog_ && size >= sizeof(mapgw_natlog_event)) {
    svc->natlog_->write(*static_cast<mapgw_natlog_event*>(data), svc->mapping_.ipv4);
  }
  return 0;
}

Result<Ipv6Prefix> CeService::end_user_prefix(const CeConfig& cfg) {
  if (cfg.end_user_prefix) return *cfg.end_user_prefix;
  // From the WAN interface: the first global address a rule covers, with its
  // prefix length (the /64 of an RA, or a delegated prefix put there).
  auto set = RuleSet::create(cfg.rules);
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return make_error("reading interface addresses", errno);
  std::optional<Ipv6Prefix> found;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET6 || cfg.wan_interface != a->ifa_name) continue;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
    auto* mask = reinterpret_cast<sockaddr_in6*>(a->ifa_netmask);
    unsigned len = 0;
    for (uint8_t b : mask->sin6_addr.s6_addr) len += __builtin_popcount(b);
    if (len == 128) continue;  // our own CE address (and other host routes)
    Ipv6Addr addr = Ipv6Addr::from_bytes(sin6->sin6_addr.s6_addr);
    Ipv6Addr net;
    mapgw_u128_copy_prefix(&net.value, &addr.value, len);
    Ipv6Prefix p{net, static_cast<uint8_t>(len)};
    if (derive_ce(*set, p)) found = p;
  }
  freeifaddrs(list);
  if (!found) {
    return make_error("no address on " + cfg.wan_interface +
                      " lies in a rule's IPv6 prefix; set end_user_prefix or wait for the RA/PD");
  }
  return *found;
}

Result<std::unique_ptr<CeService>> CeService::start(const Config& cfg) {
  const CeConfig& c = cfg.ce;
  for (const auto& ifname : {c.wan_interface, c.lan_interface}) {
    if (!interface_exists(ifname)) return make_error("interface " + ifname + " does not exist");
  }
  auto eup = end_user_prefix(c);
  if (!eup) return eup.error();
  auto set = RuleSet::create(c.rules);
  auto mapping = derive_ce(*set, *eup);
  if (!mapping) return mapping.error();
  for (const auto& s : c.static_napt) {
    if (!mapping->ports.contains(s.external_port)) {
      return make_error("static NAPT external port " + std::to_string(s.external_port) +
                        " is not in this CE's port set (PSID " +
                        std::to_string(mapping->psid.value_or(0)) + ")");
    }
  }
  Result<std::string> pins = std::string();
  if (!cfg.bpffs.empty()) pins = pin_dir(cfg.bpffs, cfg.instance);
  if (!pins) return pins.error();
  auto spread = spread_cpus_of(c.spread_cpus, MAPGW_MAX_SPREAD_CPUS, "[ce] spread_cpus");
  if (!spread) return spread.error();
  auto dp = CeDataplane::load(c.max_sessions, mapping->ports.size(), 5'000'000'000ULL, *pins,
                              c.filtering == Filtering::kAddressDependent, cfg.flow_cache_sets, *spread);
  if (!dp) return dp.error();
  std::unique_ptr<CeService> svc(new CeService(cfg, *mapping, std::move(*dp)));
  auto watch = RouteWatch::start(svc->dp_.route_ctl_fd(), cfg.route_cache);
  if (!watch) return watch.error();
  svc->route_watch_.emplace(std::move(*watch));
  if (auto st = svc->prepare_host(); !st) return st.error();
  auto previous = svc->dp_.config();  // the last run's, when its pinned maps were adopted
  if (!previous) return previous.error();
  if (auto st = svc->apply(cfg); !st) return st.error();
  if (auto st = svc->reconcile_adopted_nat(*previous); !st) return st.error();
  CeAttachConfig a{c.lan_interface, c.wan_interface, c.slow_path_interface,
                   cfg.xdp_mode == "generic" ? XdpMode::kGeneric : XdpMode::kNative};
  if (auto st = svc->dp_.attach(a); !st) return st.error();

  svc->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  itimerspec every_second{{1, 0}, {1, 0}};
  if (svc->timer_fd_ < 0 || timerfd_settime(svc->timer_fd_, 0, &every_second, nullptr) != 0) {
    return make_error("sweeper timer", errno);
  }
  svc->events_ = ring_buffer__new(svc->dp_.events_fd(), on_bpf_event, &svc->urgent_, nullptr);
  if (!svc->events_) return make_error("BPF event ring buffer", errno);
  if (c.nat_log.enabled) {
    auto w = NatLogWriter::open(c.nat_log.destination);
    if (!w) return w.error();
    svc->natlog_ = std::move(*w);
  }
  // Drained always, so events logged by a previous run or while the log was
  // off do not pile up.
  if (int err = ring_buffer__add(svc->events_, svc->dp_.nat_log_fd(), on_natlog_event, svc.get())) {
    return make_error("NAT log ring buffer", -err);
  }
  if (!c.end_user_prefix) {
    // The prefix comes from the WAN interface (RA /64, or a delegated prefix
    // placed there): follow its changes.
    svc->netlink_fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    sockaddr_nl nl{};
    nl.nl_family = AF_NETLINK;
    nl.nl_groups = RTMGRP_IPV6_IFADDR;
    if (svc->netlink_fd_ < 0 ||
        bind(svc->netlink_fd_, reinterpret_cast<sockaddr*>(&nl), sizeof nl) != 0) {
      return make_error("netlink (watching " + c.wan_interface + "'s addresses)", errno);
    }
  }

  const auto& m = svc->mapping_;
  spdlog::info("CE up: {} PSID {} ({} ports in {} ranges), CE address {}, BR {}",
               m.ipv4.str() + (m.ipv4_prefix_len < 32 ? "/" + std::to_string(m.ipv4_prefix_len) : ""),
               m.psid ? std::to_string(*m.psid) : "none", m.ports.size(), m.ports.ranges().size(),
               m.ce_address.str(), c.br_address->str());
  return svc;
}

CeService::~CeService() {
  stop();
  if (events_) ring_buffer__free(events_);
  if (timer_fd_ >= 0) close(timer_fd_);
  if (netlink_fd_ >= 0) close(netlink_fd_);
}

void CeService::on_prefix_change() {
  auto eup = end_user_prefix(cfg_.ce);
  if (!eup) {
    spdlog::warn("End-user prefix: {}; keeping {}", eup.error().describe(),
                 mapping_.end_user_prefix.str());
    return;
  }
  if (*eup == mapping_.end_user_prefix) return;
  auto next = derive_ce(*RuleSet::create(cfg_.ce.rules), *eup);
  if (!next) {
    spdlog::error("End-user prefix {}: {}", eup->str(), next.error().describe());
    return;
  }
  const CeMapping old = mapping_;
  const bool nat_invalid = next->ipv4 != old.ipv4 || next->psid != old.psid ||
                           next->ipv4_prefix_len != old.ipv4_prefix_len;
  // Order matters under traffic: the new address first (the kernel answers
  // neighbour solicitations for it), then the data plane's new mapping, and
  // only then the flush — a session made between a flush and the new mapping
  // would keep a port of the old set for its whole life.
  mapping_ = *next;
  if (auto st = run_ip({"-6", "addr", "replace", mapping_.ce_address.str() + "/128", "dev",
                        cfg_.ce.wan_interface, "nodad"});
      !st) {
    spdlog::error("{}", st.error().describe());
  }
  if (auto st = apply(cfg_); !st) spdlog::error("applying the new mapping: {}", st.error().describe());
  uint64_t flushed = 0;
  if (nat_invalid) {
    // Outside endpoints of every session change: none can stay valid.
    if (auto st = flush_nat_after_mapping_change(&flushed); !st) {
      spdlog::error("flushing NAT state after the prefix change: {}", st.error().describe());
    }
  }
  if (!(old.ce_address == mapping_.ce_address)) {
    if (auto st = run_ip({"-6", "addr", "del", old.ce_address.str() + "/128", "dev",
                          cfg_.ce.wan_interface});
        !st) {
      spdlog::warn("{}", st.error().describe());
    }
  }
  ++prefix_changes_;
  sessions_flushed_ += flushed;
  spdlog::warn("End-user prefix {} -> {}: IPv4 {} PSID {} ({} ports), CE address {}; {} NAT "
               "sessions flushed",
               old.end_user_prefix.str(), mapping_.end_user_prefix.str(), mapping_.ipv4.str(),
               mapping_.psid ? std::to_string(*mapping_.psid) : "none", mapping_.ports.size(),
               mapping_.ce_address.str(), flushed);
}

Status CeService::prepare_host() {
  const CeConfig& c = cfg_.ce;
  if (auto st = enable_forwarding(); !st) return st;
  if (auto st = refuse_source_routes(); !st) return st;
  if (auto st = relax_rp_filter(c.wan_interface); !st) return st;
  auto mtu = interface_mtu(c.wan_interface);
  if (!mtu) return mtu.error();
  if (*mtu < 1280) return make_error(c.wan_interface + " has MTU " + std::to_string(*mtu) + " (< 1280)");
  if (auto st = ensure_slow_path(c.slow_path_interface, *mtu - 40, &created_slow_path_); !st) return st;
  // Upstream delivers to the CE address; it must be ours on the WAN. The
  // kernel never uses the shared IPv4 address itself (it is on no
  // interface), so it never allocates ports from our set.
  auto st = run_ip({"-6", "addr", "replace", mapping_.ce_address.str() + "/128", "dev",
                    c.wan_interface, "nodad"});
  if (!st) return st;
  added_ce_address_ = true;
  return Status::Ok();
}

// Every NAT entry, after the data plane took a new address or port set.
// Twice: a packet that read the old mapping just before the change may
// insert its session after the first pass. *flushed counts what went,
// also when a pass fails.
Status CeService::flush_nat_after_mapping_change(uint64_t* flushed) {
  for (int pass = 0; pass < 2; ++pass) {
    if (pass) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto f = flush_nat(dp_.nat_maps());
    if (!f) return f.error();
    *flushed += *f;
  }
  return Status::Ok();
}

// Sessions adopted from the previous run's pinned maps: none is valid when
// the public address or port set changed meanwhile (flushed, as on a live
// prefix change: their ports lie outside the new set and every such flow
// would be black-holed while it stays active), and no reverse entry may
// outlive its session.
Status CeService::reconcile_adopted_nat(const mapgw_ce_config& previous) {
  const mapgw_ce_config now = *dp_.config();
  if (previous.ipv4 != 0 && (previous.ipv4 != now.ipv4 || previous.psid != now.psid ||
                             previous.psid_len != now.psid_len || previous.psid_offset != now.psid_offset)) {
    uint64_t flushed = 0;
    if (auto st = flush_nat_after_mapping_change(&flushed); !st) return st;
    sessions_flushed_ += flushed;
    spdlog::warn("the mapping changed since the last run (its pinned NAT state): {} sessions flushed",
                 flushed);
  }
  auto orphans = remove_orphan_reverse_entries(dp_.nat_maps());
  if (!orphans) return orphans.error();
  if (*orphans) spdlog::warn("removed {} reverse NAT entries without their session", *orphans);
  return Status::Ok();
}

Status CeService::apply(const Config& cfg) {
  if (auto st = route_watch_->set_enabled(cfg.route_cache); !st) return st;
  const CeConfig& c = cfg.ce;
  mapgw_ce_config bc{};
  bc.ce_addr = mapping_.ce_address.value;
  bc.br_addr = c.br_address->value;
  bc.ipv4 = htonl(mapping_.ipv4.value);
  if (auto lan_ip = first_ipv4_address(c.lan_interface)) bc.icmp_src = htonl(lan_ip->value);
  bc.psid = mapping_.psid.value_or(0);
  bc.psid_len = static_cast<uint8_t>(mapping_.ports.psid_len());
  bc.psid_offset = static_cast<uint8_t>(mapping_.ports.offset());
  bc.filtering = static_cast<uint8_t>(c.filtering);
  auto mtu = interface_mtu(c.wan_interface);
  if (!mtu) return mtu.error();
  bc.tunnel_mtu = static_cast<uint16_t>(*mtu - 40);
  auto lan = interface_index(c.lan_interface);
  auto wan = interface_index(c.wan_interface);
  auto slow = interface_index(c.slow_path_interface);
  if (!lan || !wan || !slow) return make_error("an interface vanished while configuring");
  bc.lan_ifindex = *lan;
  bc.slow_ifindex = *slow;
  bc.host_session_limit = c.host_session_limit;
  if (c.nat_log.enabled) {
    bc.flags |= MAPGW_CE_F_NATLOG_BINDINGS;
    if (c.nat_log.sessions) bc.flags |= MAPGW_CE_F_NATLOG_SESSIONS;
  }
  bc.natlog_rate = c.nat_log.rate_limit;

  std::vector<mapgw_br_rule> fmrs;
  for (const auto& r : c.rules) {
    if (r.fmr()) fmrs.push_back(make_br_rule(r, mapping_.ce_address));  // outer source: us
  }
  std::vector<StaticNapt> napt;
  for (const auto& s : c.static_napt) {
    napt.push_back({s.proto, s.external_port, s.internal.addr.value, s.internal.port});
  }
  std::vector<mapgw_filter_rule> filter;
  for (const auto& f : c.filter) {
    mapgw_filter_rule r{};
    r.src = htonl(f.source.addr.value);
    r.src_mask = htonl(mapgw_top_mask32(f.source.len));
    r.dst = htonl(f.destination.addr.value);
    r.dst_mask = htonl(mapgw_top_mask32(f.destination.len));
    r.dport_lo = f.port_lo;
    r.dport_hi = f.port_hi;
    r.proto = f.proto;
    r.action = f.deny ? 1 : 0;
    filter.push_back(r);
  }
  std::vector<uint32_t> ports{*lan, *wan};
  if (auto st = dp_.replace_tx_ports(ports); !st) return st;
  if (auto st = dp_.replace_fmrs(fmrs); !st) return st;
  if (auto st = dp_.replace_static_napt(napt); !st) return st;
  if (auto st = dp_.replace_filter(filter); !st) return st;
  if (auto st = dp_.set_config(bc); !st) return st;
  if (auto st = dp_.set_nat_policy(nat_policy(c, mapping_.ports.size())); !st) return st;
  std::set<std::string> want;
  for (const auto& p : c.ipv4_routes) want.insert(p.str());
  if (auto st = sync_ipv4_routes(want, routes_, c.slow_path_interface); !st) return st;
  routes_ = std::move(want);
  return Status::Ok();
}

Status CeService::reload(const Config& cfg) {
  const CeConfig &a = cfg_.ce, &b = cfg.ce;
  if (cfg.role != Role::kCe || a.wan_interface != b.wan_interface ||
      a.lan_interface != b.lan_interface || a.slow_path_interface != b.slow_path_interface ||
      a.max_sessions != b.max_sessions || cfg.xdp_mode != cfg_.xdp_mode || a.spread_cpus != b.spread_cpus ||
      cfg.instance != cfg_.instance || cfg.flow_cache_sets != cfg_.flow_cache_sets ||
      (a.filtering == Filtering::kAddressDependent) != (b.filtering == Filtering::kAddressDependent)) {
    return make_error("role, interfaces, max_sessions, flow_cache_sets, spread_cpus, xdp_mode, instance and a change "
                      "to or from "
                      "address-dependent filtering (its markers size the session table) take a "
                      "restart; the running configuration is unchanged");
  }
  auto eup = end_user_prefix(b);
  if (!eup) return eup.error();
  auto mapping = derive_ce(*RuleSet::create(b.rules), *eup);
  if (!mapping) return mapping.error();
  if (mapping->ipv4 != mapping_.ipv4 || mapping->psid != mapping_.psid ||
      !(mapping->ce_address == mapping_.ce_address)) {
    return make_error("the reload changes this CE's IPv4 address, PSID or CE address; that needs "
                      "a restart (sessions would no longer match)");
  }
  for (const auto& s : b.static_napt) {
    if (!mapping_.ports.contains(s.external_port)) {
      return make_error("static NAPT external port " + std::to_string(s.external_port) +
                        " is not in this CE's port set");
    }
  }
  if (b.nat_log.enabled && (!natlog_ || b.nat_log.destination != a.nat_log.destination)) {
    auto w = NatLogWriter::open(b.nat_log.destination);
    if (!w) return w.error();
    natlog_ = std::move(*w);
  }
  if (!b.nat_log.enabled) natlog_.reset();
  if (auto st = apply(cfg); !st) {
    spdlog::error("reload failed half-way ({}); re-applying the previous configuration",
                  st.error().describe());
    if (auto back = apply(cfg_); !back) spdlog::error("restoring failed too: {}", back.error().describe());
    return st;
  }
  cfg_ = cfg;
  spdlog::info("reloaded: {} rules, {} static NAPT, {} filter rules", b.rules.size(),
               b.static_napt.size(), b.filter.size());
  return Status::Ok();
}

Status CeService::reopen_logs() {
  if (!natlog_) return Status::Ok();
  Status st = natlog_->reopen();
  if (!st) ++natlog_reopen_errors_;
  return st;
}

void CeService::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (cfg_.on_stop == "keep") {
    dp_.release();
    spdlog::info("CE stopped; the data plane keeps forwarding with its NAT state (on_stop = "
                 "\"keep\"), the next start adopts it");
    return;
  }
  dp_.detach();
  if (auto st = sync_ipv4_routes({}, routes_, cfg_.ce.slow_path_interface); !st) {
    spdlog::warn("removing routes: {}", st.error().describe());
  }
  routes_.clear();
  if (added_ce_address_) {
    if (auto st = run_ip({"-6", "addr", "del", mapping_.ce_address.str() + "/128", "dev",
                          cfg_.ce.wan_interface});
        !st) {
      spdlog::warn("removing the CE address: {}", st.error().describe());
    }
  }
  if (interface_exists(cfg_.ce.slow_path_interface)) {
    if (auto st = run_ip({"link", "del", cfg_.ce.slow_path_interface}); !st) {
      spdlog::warn("removing {}: {}", cfg_.ce.slow_path_interface, st.error().describe());
    }
  }
  spdlog::info("CE stopped: programs detached, routes and CE address removed");
}

void CeService::sweep(bool urgent) {
  std::function<void(const mapgw_natlog_event&)> log_delete;
  if (natlog_) {
    log_delete = [this](const mapgw_natlog_event& ev) {
      if (ev.type == MAPGW_NATLOG_BINDING_DELETE || cfg_.ce.nat_log.sessions) {
        natlog_->write(ev, mapping_.ipv4);
      }
    };
  }
  const uint64_t start = monotonic_ns();
  auto r = sweep_nat(dp_.nat_maps(), to_timeouts(cfg_.ce.timeouts), start, log_delete);
  last_sweep_took_ns_ = monotonic_ns() - start;
  // The sweeper shares the machine with the data plane: a sweep that took d
  // (0.3 s over a million sessions) waits kSweepDuty * d before the next
  // periodic one, so it takes at most 1/kSweepDuty of a CPU. Sessions then
  // expire up to that much later than their timeout (at least 60 s).
  next_sweep_ns_ = start + std::max(kSweepEvery - kSweepSlack, kSweepDuty * last_sweep_took_ns_);
  ++sweeps_;
  if (urgent) ++urgent_sweeps_;
  if (!r) {
    ++sweep_errors_;
    spdlog::error("NAT sweep: {}", r.error().describe());
    return;
  }
  last_sweep_ = *r;
  expired_total_ += r->sessions_expired;
  if (urgent) {
    spdlog::warn("port set full: urgent sweep expired {} sessions, {} bindings",
                 r->sessions_expired, r->bindings_expired);
  }
}

std::vector<int> CeService::event_fds() const {
  std::vector<int> fds{timer_fd_, ring_buffer__epoll_fd(events_)};
  if (netlink_fd_ >= 0) fds.push_back(netlink_fd_);
  fds.push_back(route_watch_->fd());
  return fds;
}

void CeService::on_event(int fd) {
  if (fd == route_watch_->fd()) {
    route_watch_->on_readable();
    return;
  }
  if (fd == netlink_fd_) {
    char buf[8192];
    while (recv(netlink_fd_, buf, sizeof buf, 0) > 0) {
    }  // any address change on any interface: look again
    on_prefix_change();
    return;
  }
  if (fd == timer_fd_) {
    uint64_t ticks;
    if (read(timer_fd_, &ticks, sizeof ticks) > 0 && monotonic_ns() >= next_sweep_ns_) sweep(false);
    return;
  }
  urgent_ = false;
  ring_buffer__consume(events_);
  // At most ten urgent sweeps a second, and at most a fifth of a CPU: a
  // full set under attack must not turn the agent into a busy loop.
  const uint64_t now = monotonic_ns();
  const uint64_t urgent_gap = std::max<uint64_t>(100'000'000ULL, 4 * last_sweep_took_ns_);
  if (urgent_ && now - last_urgent_ns_ > urgent_gap) {
    last_urgent_ns_ = now;
    sweep(true);
  }
}

nlohmann::json CeService::status() const {
  const auto& m = mapping_;
  const auto& c = cfg_.ce;
  auto sess = count_sessions(dp_.nat_maps());
  uint64_t sessions = 0;
  if (sess) {
    for (const auto& [k, n] : *sess) sessions += n;
  }
  auto used = list_ports_in_use(dp_.nat_maps());
  static const char* filtering[] = {"endpoint-independent", "address-dependent",
                                    "address-and-port-dependent"};
  return {{"role", "ce"},
          {"instance", cfg_.instance},
          {"pid", getpid()},
          {"xdp_mode", cfg_.xdp_mode},
          {"attached", dp_.attached()},
          {"interfaces", {{"lan", c.lan_interface}, {"wan", c.wan_interface}, {"slow_path", c.slow_path_interface}}},
          {"programs",
           {{"xdp",
             {{c.lan_interface, dp_.prog_name(CeProgram::kXdpLan)},
              {c.wan_interface, dp_.prog_name(CeProgram::kXdpWan)}}},
            {"tc_ingress", {{c.wan_interface, dp_.prog_name(CeProgram::kTcWan)}}},
            {"tc_egress", {{c.slow_path_interface, dp_.prog_name(CeProgram::kTcEncap)}}}}},
          {"end_user_prefix", m.end_user_prefix.str()},
          {"ipv4_address", m.ipv4.str()},
          {"ipv4_prefix_len", m.ipv4_prefix_len},
          {"psid", m.psid ? nlohmann::json(*m.psid) : nlohmann::json(nullptr)},
          {"psid_len", m.ports.psid_len()},
          {"psid_offset", m.ports.offset()},
          {"port_count", m.ports.size()},
          {"port_ranges", ranges_json(m.ports)},
          {"ce_ipv6_address", m.ce_address.str()},
          {"br_address", c.br_address->str()},
          {"iid_layout", m.rule.legacy_iid() ? "legacy" : "rfc7597"},
          {"filtering", filtering[static_cast<int>(c.filtering)]},
          {"spread_cpus", dp_.spread_cpus()},
          {"rule_count", c.rules.size()},
          {"sessions", sessions},
          {"prefix_changes", prefix_changes_},
          {"sessions_flushed", sessions_flushed_},
          {"ports_in_use", used ? used->size() : 0},
          {"route_cache", route_watch_->status()}};
}

nlohmann::json CeService::rules() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : cfg_.ce.rules) {
    nlohmann::json psid = nullptr;
    if (auto p = r.provisioned_psid()) psid = *p;
    out.push_back({{"ipv6", r.ipv6_prefix().str()}, {"ipv4", r.ipv4_prefix().str()},
                   {"ea", r.ea_len()}, {"offset", r.psid_offset()}, {"psidlen", r.psid_len()},
                   {"psid", psid}, {"fmr", r.fmr()}, {"legacy_iid", r.legacy_iid()},
                   {"br_address", cfg_.ce.br_address->str()},
                   {"bmr", r.ipv6_prefix() == mapping_.rule.ipv6_prefix()}});
  }
  return {{"rules", out}};
}

nlohmann::json CeService::metrics() const {
  nlohmann::json m = stats();
  auto gauge = [&](const char* name, const char* help, nlohmann::json labels, double value) {
    m["gauges"].push_back({{"name", name}, {"help", help}, {"labels", labels}, {"value", value}});
  };
  auto total = [&](const char* name, const char* help, nlohmann::json labels, double value) {
    m["totals"].push_back({{"name", name}, {"help", help}, {"labels", labels}, {"value", value}});
  };
  m["gauges"] = nlohmann::json::array();
  m["totals"] = nlohmann::json::array();
  // Every (protocol, state) pair is exported, zero or not, so graphs and
  // alerts never see a series vanish.
  std::map<std::pair<std::string, std::string>, double> sessions;
  for (const char* p : {"tcp", "udp", "icmp"}) {
    if (std::string(p) == "tcp") {
      for (const char* st : {"syn-out", "syn-in", "established", "fin-out", "fin-in", "closing"}) {
        sessions[{p, st}] = 0;
      }
    } else {
      sessions[{p, "-"}] = 0;
    }
  }
  if (auto counts = count_sessions(dp_.nat_maps())) {
    // count_sessions keys UDP and ICMP by MAPGW_TCP_NONE, whose name is "-".
    for (const auto& [k, n] : *counts) sessions[{proto_name(k.first), tcp_state_name(k.second)}] += n;
  } else {
    ++map_read_errors_;
  }
  for (const auto& [k, n] : sessions) {
    gauge("mapgw_nat_sessions", "NAT sessions by protocol and TCP state",
          {{"proto", k.first}, {"state", k.second}}, n);
  }
  std::map<std::string, double> used{{"tcp", 0}, {"udp", 0}, {"icmp", 0}};
  if (auto ports = list_ports_in_use(dp_.nat_maps())) {
    for (const auto& p : *ports) used[proto_name(p.proto)] += 1;
  } else {
    ++map_read_errors_;
  }
  for (const auto& [p, n] : used) {
    gauge("mapgw_nat_ports_in_use", "External ports bound (dynamic and static), by protocol",
          {{"proto", p}}, n);
  }
  gauge("mapgw_nat_port_set_size", "Ports of this CE's port set (per protocol)", nlohmann::json::object(),
        mapping_.ports.size());
  gauge("mapgw_rules", "MAP rules configured", {{"domain", "ce"}}, cfg_.ce.rules.size());
  total("mapgw_nat_sweeps_total", "NAT sweeps run", {{"kind", "periodic"}},
        static_cast<double>(sweeps_ - urgent_sweeps_));
  total("mapgw_nat_sweeps_total", "NAT sweeps run", {{"kind", "urgent"}},
        static_cast<double>(urgent_sweeps_));
  gauge("mapgw_nat_sweep_seconds", "How long the last NAT sweep took", nlohmann::json::object(),
        static_cast<double>(last_sweep_took_ns_) / 1e9);
  total("mapgw_nat_sessions_expired_total", "NAT sessions removed by the sweeper",
        nlohmann::json::object(), static_cast<double>(expired_total_));
  total("mapgw_nat_sweep_errors_total", "NAT sweeps that failed", nlohmann::json::object(),
        static_cast<double>(sweep_errors_));
  total("mapgw_map_read_errors_total", "Failed reads of BPF maps", nlohmann::json::object(),
        static_cast<double>(map_read_errors_));
  total("mapgw_nat_log_lines_total", "NAT log lines written", nlohmann::json::object(),
        static_cast<double>(natlog_ ? natlog_->written() : 0));
  total("mapgw_nat_log_write_errors_total", "NAT log lines that could not be written",
        nlohmann::json::object(), static_cast<double>(natlog_ ? natlog_->errors() : 0));
  total("mapgw_nat_log_reopen_errors_total",
        "Rotations after which the NAT log could not be opened again (the old file stays in use)",
        nlohmann::json::object(), static_cast<double>(natlog_reopen_errors_));
  total("mapgw_prefix_changes_total", "End-user prefix changes applied without a restart",
        nlohmann::json::object(), static_cast<double>(prefix_changes_));
  total("mapgw_nat_sessions_flushed_total", "NAT sessions dropped because the mapping changed",
        nlohmann::json::object(), static_cast<double>(sessions_flushed_));
  return m;
}

nlohmann::json CeService::stats() const {
  const uint64_t now = monotonic_ns();
  nlohmann::json j = counters_json(dp_.counters_fd(), map_read_errors_);
  j["sweeper"] = {{"sweeps", sweeps_}, {"urgent_sweeps", urgent_sweeps_}, {"errors", sweep_errors_},
                  {"sessions_expired_total", expired_total_},
                  {"last_sessions_seen", last_sweep_.sessions_seen},
                  {"last_sweep_ms", last_sweep_took_ns_ / 1'000'000},
                  {"next_sweep_in_ms",
                   next_sweep_ns_ > now ? (next_sweep_ns_ - now) / 1'000'000 : 0}};
  return j;
}

nlohmann::json CeService::sessions(const nlohmann::json& req) const {
  std::optional<uint32_t> host;
  std::optional<uint8_t> proto;
  if (req.contains("host")) {  // types checked by the control server
    auto a = Ipv4Addr::parse(req["host"].get<std::string>());
    if (!a) return {{"error", "host: " + a.error().message}};
    host = a->value;
  }
  if (req.contains("proto")) {
    const std::string p = req["proto"];
    if (p == "tcp") proto = 6;
    else if (p == "udp") proto = 17;
    else if (p == "icmp") proto = 1;
    else return {{"error", "proto must be tcp, udp or icmp"}};
  }
  auto list = list_sessions(dp_.nat_maps(), monotonic_ns(), host, proto);
  if (!list) return {{"error", list.error().describe()}};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *list) {
    out.push_back({{"proto", proto_name(s.proto)}, {"inside", s.inside},
                   {"outside", mapping_.ipv4.str() + ":" + std::to_string(s.ext_port)},
                   {"remote", s.remote}, {"state", s.state}, {"age_s", s.age_s}, {"idle_s", s.idle_s}});
  }
  return {{"sessions", out}};
}

nlohmann::json CeService::ports() const {
  auto used = list_ports_in_use(dp_.nat_maps());
  if (!used) return {{"error", used.error().describe()}};
  nlohmann::json in_use = nlohmann::json::array();
  std::map<std::string, unsigned> per_proto;
  for (const auto& p : *used) {
    in_use.push_back({{"proto", proto_name(p.proto)}, {"port", p.ext_port},
                      {"inside", p.inside}, {"static", p.is_static}});
    ++per_proto[proto_name(p.proto)];
  }
  return {{"ipv4_address", mapping_.ipv4.str()},
          {"psid", mapping_.psid ? nlohmann::json(*mapping_.psid) : nlohmann::json(nullptr)},
          {"psid_len", mapping_.ports.psid_len()},
          {"psid_offset", mapping_.ports.offset()},
          {"port_count", mapping_.ports.size()},
          {"port_ranges", ranges_json(mapping_.ports)},
          {"in_use_count", per_proto},
          {"in_use", in_use}};
}

void CeService::add_commands(ControlServer& server) {
  using Type = ControlServer::Field::Type;
  server.add("sessions", {{"host", Type::kString}, {"proto", Type::kString}},
             [this](const nlohmann::json& req) { return sessions(req); });
  server.add("ports", [this](const nlohmann::json&) { return ports(); });
}

}  // namespace mapgw
