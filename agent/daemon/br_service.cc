#include "agent/daemon/br_service.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>

#include "agent/br/br_rule.h"
#include "agent/config/cpu_list.h"
#include "agent/daemon/host_net.h"
#include "loader/pinning.h"
#include "agent/daemon/counters_json.h"

namespace mapgw {
namespace {

nlohmann::json rule_json(const MapRule& r) {
  nlohmann::json psid = nullptr;
  if (auto p = r.provisioned_psid()) psid = *p;
  return {{"ipv6", r.ipv6_prefix().str()}, {"ipv4", r.ipv4_prefix().str()},
          {"ea", r.ea_len()},             {"offset", r.psid_offset()},
          {"psidlen", r.psid_len()},      {"psid", psid},
          {"fmr", r.fmr()},               {"legacy_iid", r.legacy_iid()}};
}

int64_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

void BrService::add_commands(ControlServer& server) {
  using Type = ControlServer::Field::Type;
  server.add("whois", {{"addr", Type::kString, true}, {"at", Type::kString}},
             [this](const nlohmann::json& req) -> nlohmann::json {
    auto who = Ipv4Endpoint::parse(req["addr"].get<std::string>());
    if (!who) return {{"error", who.error().message}};
    int64_t at = wall_clock_ms();
    if (req.contains("at") && !req["at"].get<std::string>().empty()) {
      auto t = parse_time_ms(req["at"].get<std::string>());
      if (!t) return {{"error", t.error().message}};
      at = *t;
    }
    return whois(history_, *who, at);
  });
}

Result<std::unique_ptr<BrService>> BrService::start(const Config& cfg) {
  for (const auto& ifname : {cfg.br.ipv4_interface, cfg.br.ipv6_interface}) {
    if (!interface_exists(ifname)) return make_error("interface " + ifname + " does not exist");
  }
  Result<std::string> pins = std::string();
  if (!cfg.bpffs.empty()) pins = pin_dir(cfg.bpffs, cfg.instance);
  if (!pins) return pins.error();
  auto spread = spread_cpus_of(cfg.br.spread_cpus, MAPGW_MAX_SPREAD_CPUS, "[br] spread_cpus");
  if (!spread) return spread.error();
  auto dp = BrDataplane::load(uint64_t{cfg.br.fragment_timeout_s} * 1'000'000'000ULL, *pins,
                              cfg.flow_cache_sets, *spread);
  if (!dp) return dp.error();
  std::string history_path;
  if (!cfg.state_dir.empty()) {
    const std::string dir = cfg.state_dir + "/" + cfg.instance;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error("creating " + dir + ": " + ec.message());
    history_path = dir + "/rule-history.jsonl";
  }
  auto history = RuleHistory::open(history_path);
  if (!history) return history.error();
  for (const auto& why : history->skipped()) spdlog::warn("rule history: skipped {}", why);
  std::unique_ptr<BrService> svc(new BrService(cfg, std::move(*dp), std::move(*history)));
  auto watch = RouteWatch::start(svc->dp_.route_ctl_fd(), cfg.route_cache);
  if (!watch) return watch.error();
  svc->route_watch_.emplace(std::move(*watch));
  if (auto st = svc->prepare_host(); !st) return st.error();
  if (auto st = svc->apply(cfg); !st) return st.error();
  BrAttachConfig a{cfg.br.ipv4_interface, cfg.br.ipv6_interface, cfg.br.slow_path_interface,
                   cfg.xdp_mode == "generic" ? XdpMode::kGeneric : XdpMode::kNative};
  if (auto st = svc->dp_.attach(a); !st) return st.error();
  if (auto st = svc->history_.record(wall_clock_ms(), cfg.br.domains); !st) return st.error();
  spdlog::info("BR up: XDP ({}) on {} and {}, slow path {}, {} rules in {} domain(s), spreading {}",
               cfg.xdp_mode, cfg.br.ipv4_interface, cfg.br.ipv6_interface,
               cfg.br.slow_path_interface, svc->dp_.rule_count(), cfg.br.domains.size(),
               spread->empty() ? "off" : "over " + std::to_string(spread->size()) + " CPUs");
  return svc;
}

BrService::~BrService() { stop(); }

// The BR forwards; the slow path needs the kernel to forward too.
Status BrService::prepare_host() {
  if (auto st = enable_forwarding(); !st) return st;
  if (auto st = refuse_source_routes(); !st) return st;
  if (auto st = relax_rp_filter(cfg_.br.ipv6_interface); !st) return st;
  auto mtu = interface_mtu(cfg_.br.ipv6_interface);
  if (!mtu) return mtu.error();
  if (*mtu < 1280) {
    return make_error(cfg_.br.ipv6_interface + " has MTU " + std::to_string(*mtu) + " (< 1280)");
  }
  // IPv4 packets into the domain may be at most MTU - 40 before encapsulation:
  // the kernel fragments (DF clear) or sends "fragmentation needed" (DF set)
  // with exactly this MTU.
  return ensure_slow_path(cfg_.br.slow_path_interface, *mtu - 40, &created_slow_path_);
}

Status BrService::sync_routes(const Config& cfg) {
  std::set<std::string> want;
  for (const auto& d : cfg.br.domains) {
    for (const auto& r : d.rules) want.insert(r.ipv4_prefix().str());
  }
  if (auto st = sync_ipv4_routes(want, routes_, cfg.br.slow_path_interface); !st) return st;
  routes_ = std::move(want);
  return Status::Ok();
}

Status BrService::apply(const Config& cfg) {
  if (auto st = route_watch_->set_enabled(cfg.route_cache); !st) return st;
  std::vector<mapgw_br_rule> rules;
  std::vector<std::array<uint8_t, 16>> addrs;
  for (const auto& d : cfg.br.domains) {
    addrs.push_back(d.br_address.bytes());
    for (const auto& r : d.rules) rules.push_back(make_br_rule(r, d.br_address));
  }
  std::vector<uint32_t> ports;
  for (const auto& ifname : {cfg.br.ipv4_interface, cfg.br.ipv6_interface}) {
    auto i = interface_index(ifname);
    if (!i) return i.error();
    ports.push_back(*i);
  }
  mapgw_br_config bc{};
  auto icmp = cfg.br.icmp_source ? cfg.br.icmp_source : first_ipv4_address(cfg.br.ipv4_interface);
  if (icmp) bc.icmp_src_ipv4 = htonl(icmp->value);
  if (!icmp) spdlog::warn("no ICMPv4 source: {} has no IPv4 address and icmp_source is unset; "
                          "ICMP errors will carry the CE's address", cfg.br.ipv4_interface);
  // Order matters for a live reload: accept new BR addresses and rules before
  // the routes that send traffic to them; remove stale ones last.
  if (auto st = dp_.replace_tx_ports(ports); !st) return st;
  if (auto st = dp_.set_config(bc); !st) return st;
  if (auto st = dp_.replace_br_addresses(addrs); !st) return st;
  if (auto st = dp_.replace_rules(rules); !st) return st;
  return sync_routes(cfg);
}

Status BrService::reload(const Config& cfg) {
  const auto& a = cfg_.br;
  const auto& b = cfg.br;
  if (a.ipv4_interface != b.ipv4_interface || a.ipv6_interface != b.ipv6_interface ||
      a.slow_path_interface != b.slow_path_interface || cfg.xdp_mode != cfg_.xdp_mode ||
      a.fragment_timeout_s != b.fragment_timeout_s || cfg.instance != cfg_.instance ||
      cfg.flow_cache_sets != cfg_.flow_cache_sets || a.spread_cpus != b.spread_cpus) {
    return make_error("interfaces, xdp_mode, fragment_timeout, flow_cache_sets, spread_cpus and instance change "
                      "only with a restart; the running configuration is unchanged");
  }
  if (auto st = apply(cfg); !st) {
    spdlog::error("reload failed half-way ({}); re-applying the previous rules", st.error().describe());
    if (auto back = apply(cfg_); !back) spdlog::error("restoring failed too: {}", back.error().describe());
    return st;
  }
  cfg_ = cfg;
  if (auto st = history_.record(wall_clock_ms(), cfg.br.domains); !st) {
    spdlog::error("rule history: {}", st.error().describe());  // the reload itself stands
  }
  spdlog::info("reloaded: {} rules in {} domain(s)", dp_.rule_count(), cfg.br.domains.size());
  return Status::Ok();
}

void BrService::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (cfg_.on_stop == "keep") {
    dp_.release();
    spdlog::info("BR stopped; the data plane keeps forwarding (on_stop = \"keep\"), the next "
                 "start adopts it");
    return;
  }
  dp_.detach();
  std::vector<std::string> lines;
  for (const auto& p : routes_) lines.push_back("route del " + p + " proto " + std::string(kRouteProto));
  if (auto st = run_ip_batch(lines); !st) spdlog::warn("removing routes: {}", st.error().describe());
  routes_.clear();
  if (interface_exists(cfg_.br.slow_path_interface)) {
    if (auto st = run_ip({"link", "del", cfg_.br.slow_path_interface}); !st) {
      spdlog::warn("removing {}: {}", cfg_.br.slow_path_interface, st.error().describe());
    }
  }
  spdlog::info("BR stopped: programs detached, routes removed");
}

nlohmann::json BrService::status() const {
  nlohmann::json domains = nlohmann::json::array();
  for (const auto& d : cfg_.br.domains) {
    domains.push_back({{"name", d.name}, {"br_address", d.br_address.str()},
                       {"rules", d.rules.size()}, {"legacy_iid", d.legacy_iid}});
  }
  const auto up = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started_);
  return {{"role", "br"},
          {"instance", cfg_.instance},
          {"pid", getpid()},
          {"uptime_s", up.count()},
          {"xdp_mode", cfg_.xdp_mode},
          {"attached", dp_.attached()},
          {"interfaces",
           {{"ipv4", cfg_.br.ipv4_interface},
            {"ipv6", cfg_.br.ipv6_interface},
            {"slow_path", cfg_.br.slow_path_interface}}},
          {"programs",
           {{"xdp",
             {{cfg_.br.ipv4_interface, dp_.prog_name(BrProgram::kXdpV4)},
              {cfg_.br.ipv6_interface, dp_.prog_name(BrProgram::kXdpV6)}}},
            {"tc_ingress", {{cfg_.br.ipv6_interface, dp_.prog_name(BrProgram::kTcV6)}}},
            {"tc_egress", {{cfg_.br.slow_path_interface, dp_.prog_name(BrProgram::kTcEncap)}}}}},
          {"route_cache", route_watch_->status()},
          {"spread_cpus", dp_.spread_cpus()},
          {"rule_count", dp_.rule_count()},
          {"domains", domains}};
}

nlohmann::json BrService::rules() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : cfg_.br.domains) {
    for (const auto& r : d.rules) {
      auto j = rule_json(r);
      j["domain"] = d.name;
      j["br_address"] = d.br_address.str();
      out.push_back(j);
    }
  }
  return {{"rules", out}};
}

nlohmann::json BrService::metrics() const {
  nlohmann::json m = stats();
  m["gauges"] = nlohmann::json::array();
  for (const auto& d : cfg_.br.domains) {
    m["gauges"].push_back({{"name", "mapgw_rules"}, {"help", "MAP rules installed, by domain"},
                           {"labels", {{"domain", d.name}}}, {"value", d.rules.size()}});
  }
  m["totals"] = nlohmann::json::array({{{"name", "mapgw_map_read_errors_total"},
                                        {"help", "Failed reads of BPF maps"},
                                        {"value", map_read_errors_}},
                                       {{"name", "mapgw_rule_history_skipped_lines_total"},
                                        {"help", "Lines of the rule history that could not be read at start"},
                                        {"value", history_.skipped().size()}}});
  if (m.contains("error")) m.erase("counters");
  return m;
}

std::vector<int> BrService::event_fds() const { return {route_watch_->fd()}; }

void BrService::on_event(int fd) {
  if (fd == route_watch_->fd()) route_watch_->on_readable();
}

nlohmann::json BrService::stats() const { return counters_json(dp_.counters_fd(), map_read_errors_); }

}  // namespace mapgw
