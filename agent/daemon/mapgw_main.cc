// mapgw: the daemon. Loads the configuration, starts the role, serves the
// control socket and handles signals: SIGTERM/SIGINT stop cleanly (programs
// detached, routes and the slow-path device removed), SIGHUP reloads the
// configuration file (applied all at once, or rejected with the old state
// kept). Runs in the foreground, as systemd expects.
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <mutex>
#include <iostream>
#include <sstream>

#include "agent/config/config.h"
#include "agent/daemon/br_service.h"
#include "agent/daemon/check_kernel.h"
#include "agent/daemon/ce_service.h"
#include "agent/daemon/control_server.h"
#include "agent/daemon/l2tp_service.h"
#include "agent/daemon/metrics.h"
#include "agent/daemon/sip_service.h"
#include "loader/kernel_features.h"
#include "loader/kernel_hz.h"
#include "loader/libbpf_log.h"

namespace mapgw {
namespace {

std::string sip_summary(const Config& cfg) {
  std::string out;
  if (cfg.sip) {
    out += "; sip " + cfg.sip->ua.aor + (cfg.sip->ua.registrar.empty() ? "" : " at " + cfg.sip->ua.registrar);
  }
  if (cfg.l2tp) {
    std::string where;
    for (const auto& a : cfg.l2tp->server.listen) where += (where.empty() ? "" : ", ") + a;
    out += "; l2tp on " + where + ", pool " + cfg.l2tp->server.pool4 + ", MRU " +
           std::to_string(cfg.l2tp->server.lns.link.lcp.mru) +
           (cfg.l2tp->require_ipsec ? ", IPsec required" : ", IPsec not required");
    if (cfg.l2tp->ipsec.psk_auth()) out += ", IKEv1 PSK";
    if (cfg.l2tp->ipsec.cert_auth()) {
      out += ", IKEv1 certificate " + cfg.l2tp->cert_subject + " (until " + cfg.l2tp->cert_not_after + ", " +
             std::to_string(cfg.l2tp->ipsec.ca_pems.size()) + " CA(s)" +
             (cfg.l2tp->ipsec.crl_pem.empty() ? "" : ", CRL") + ")";
    }
  }
  return out;
}

// SPEC.md §5: behind a MAP-E shared address IPv4 clients cannot reach the
// standard L2TP/IPsec ports; the operator is told, not left to find out.
void warn_l2tp_ipv4_on_ce(const Config& cfg, std::ostream& out) {
  if (!cfg.l2tp || cfg.role != Role::kCe) return;
  for (const auto& a : cfg.l2tp->server.listen) {
    if (a.find(':') != std::string::npos) continue;
    out << "note: [l2tp] listens on IPv4 " << a << " on a MAP-E CE: with a shared address (a PSID), UDP 500 "
        << "and 1701 are in no port set and 4500 in one PSID's only, so IPv4 clients will not reach it; "
        << "serve them over IPv6, or use an address this node owns whole\n";
  }
}

int check_config(const std::string& path) {
  auto cfg = load_config_file(path);
  if (!cfg) {
    std::cerr << "mapgw: " << cfg.error().describe() << "\n";
    return 2;
  }
  warn_l2tp_ipv4_on_ce(*cfg, std::cout);
  if (cfg->role == Role::kNone) {
    std::cout << path << ": OK (role none" << sip_summary(*cfg) << ")\n";
    return 0;
  }
  if (cfg->role == Role::kCe) {
    std::cout << path << ": OK (role ce, " << cfg->ce.rules.size() << " rule(s)";
    if (cfg->ce.end_user_prefix) {
      auto m = derive_ce(*RuleSet::create(cfg->ce.rules), *cfg->ce.end_user_prefix);
      std::cout << ", " << m->ipv4.str() << " PSID "
                << (m->psid ? std::to_string(*m->psid) : std::string("none")) << ", "
                << m->ports.size() << " ports";
    } else {
      std::cout << ", End-user prefix from " << cfg->ce.wan_interface;
    }
    std::cout << sip_summary(*cfg) << ")\n";
    return 0;
  }
  size_t rules = 0;
  for (const auto& d : cfg->br.domains) rules += d.rules.size();
  std::cout << path << ": OK (role br, " << cfg->br.domains.size() << " domain(s), " << rules
            << " rule(s)" << sip_summary(*cfg) << ")\n";
  return 0;
}

// One line on what this kernel made the data plane choose.
void log_kernel_facts() {
  auto hz = kernel_hz();
  auto adapt = kernel_adaptations();
  if (!hz || !adapt) return;  // the load that needs them reports the error
  spdlog::info("kernel {}: HZ {} ({}), BPF_FIB_LOOKUP_SKIP_NEIGH {}", kernel_release(), hz->hz,
               hz->source, adapt->fib_skip_neigh ? "yes" : "no (lookups resolve the neighbour too)");
}

int run(const std::string& path) {
  auto cfg = load_config_file(path);
  if (!cfg) {
    spdlog::error("{}", cfg.error().describe());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  route_libbpf_logs(cfg->log_level == "trace");
  if (cfg->role != Role::kNone) {
    if (auto missing = missing_kernel_requirements(); !missing.empty()) {
      spdlog::error("{}", describe_missing(kernel_release(), missing));
      return 1;
    }
    log_kernel_facts();
  }

  // A peer that hangs up (a control client, a scraper) costs its answer,
  // not the daemon.
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

  auto server = ControlServer::listen(cfg->socket_path);
  if (!server) {
    spdlog::error("{}", server.error().describe());
    return 1;
  }
  std::unique_ptr<RoleService> role;  // none for role = "none"
  if (cfg->role == Role::kBr) {
    auto br = BrService::start(*cfg);
    if (!br) {
      spdlog::error("starting the BR: {}", br.error().describe());
      return 1;
    }
    role = std::move(*br);
  } else if (cfg->role == Role::kCe) {
    auto ce = CeService::start(*cfg);
    if (!ce) {
      spdlog::error("starting the CE: {}", ce.error().describe());
      return 1;
    }
    role = std::move(*ce);
  }
  std::unique_ptr<SipService> sip;
  auto start_sip = [&](const Config& c) -> Status {
    if (!c.sip) return Status::Ok();
    auto s = SipService::start(*c.sip, c.sipvpn);
    if (!s) return s.error();
    sip = std::move(*s);
    return Status::Ok();
  };
  if (Status st = start_sip(*cfg); !st) {
    spdlog::error("{}", st.error().message);
    if (role) role->stop();
    return 1;
  }
  std::unique_ptr<L2tpService> l2tp;
  auto start_l2tp = [&](const Config& c) -> Status {
    if (!c.l2tp) return Status::Ok();
    std::ostringstream note;
    warn_l2tp_ipv4_on_ce(c, note);
    if (!note.str().empty()) spdlog::warn("{}", note.str());
    auto s = L2tpService::start(*c.l2tp);
    if (!s) return s.error();
    l2tp = std::move(*s);
    return Status::Ok();
  };
  if (Status st = start_l2tp(*cfg); !st) {
    spdlog::error("{}", st.error().message);
    if (sip) sip->stop();
    if (role) role->stop();
    return 1;
  }
  uint64_t reloads_ok = 0, reloads_failed = 0;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  auto watch = [&](int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  };
  // The role first (its checks are the strictest), then the services: a
  // [sip] change restarts the user agent, and a failure there is reported
  // with the role's change already applied.
  auto apply = [&](const Config& next) -> Status {
    if ((next.role == Role::kNone) != (role == nullptr) || (role && next.role != cfg->role)) {
      return make_error("role changed: that takes a restart");
    }
    if (role) {
      if (Status st = role->reload(next); !st) return st;
    }
    if (sip && next.sip) {
      if (Status st = sip->reload(*next.sip, next.sipvpn); !st) return st;
    } else if (sip && !next.sip) {
      sip->stop();
      epoll_ctl(ep, EPOLL_CTL_DEL, sip->fd(), nullptr);
      sip.reset();
    } else if (!sip && next.sip) {
      if (Status st = start_sip(next); !st) return st;
      watch(sip->fd());
    }
    if (l2tp && next.l2tp) return l2tp->reload(*next.l2tp);
    if (l2tp && !next.l2tp) {
      l2tp->stop();
      epoll_ctl(ep, EPOLL_CTL_DEL, l2tp->fd(), nullptr);
      l2tp.reset();
      return Status::Ok();
    }
    if (!l2tp && next.l2tp) {
      if (Status st = start_l2tp(next); !st) return st;
      watch(l2tp->fd());
    }
    return Status::Ok();
  };
  auto reload = [&]() -> nlohmann::json {
    // Logs first, whatever the new configuration turns out to be: after a
    // rotation, a rejected file must not keep the log in the renamed file.
    const Status logs = role ? role->reopen_logs() : Status::Ok();
    if (!logs) spdlog::error("{}", logs.error().describe());
    auto next = load_config_file(path);
    Status st = next ? apply(*next) : Status(next.error());
    nlohmann::json reply;
    if (!st) {
      ++reloads_failed;
      reply = {{"error", st.error().describe()}};
    } else {
      ++reloads_ok;
      reply = {{"reloaded", true}};
      if (role) reply["rules"] = role->rules()["rules"].size();
    }
    if (!logs) reply["warnings"] = {logs.error().describe()};
    return reply;
  };
  // Scrapes arrive on the HTTP server's threads; everything else on this
  // one. The lock is held around each event and each snapshot.
  std::mutex state_lock;
  std::unique_ptr<MetricsExporter> metrics;
  if (!cfg->metrics.empty()) {
    auto m = MetricsExporter::start(
        cfg->metrics,
        [&]() {
          nlohmann::json snap = role ? role->metrics()
                                     : nlohmann::json{{"counters", nlohmann::json::object()},
                                                      {"gauges", nlohmann::json::array()},
                                                      {"totals", nlohmann::json::array()}};
          for (auto m : {sip ? sip->metrics() : nlohmann::json(), l2tp ? l2tp->metrics() : nlohmann::json()}) {
            if (m.is_null()) continue;
            for (const char* part : {"gauges", "totals"}) {
              for (auto& e : m[part]) snap[part].push_back(std::move(e));
            }
          }
          snap["totals"].push_back({{"name", "mapgw_reloads_total"},
                                    {"help", "Configuration reloads, by result"},
                                    {"labels", {{"result", "ok"}}},
                                    {"value", reloads_ok}});
          snap["totals"].push_back({{"name", "mapgw_reloads_total"},
                                    {"help", "Configuration reloads, by result"},
                                    {"labels", {{"result", "error"}}},
                                    {"value", reloads_failed}});
          snap["gauges"].push_back({{"name", "mapgw_info"},
                                    {"help", "Role and instance of this mapgw"},
                                    {"labels", {{"role", to_string(cfg->role)},
                                                {"instance", cfg->instance}}},
                                    {"value", 1}});
          return snap;
        },
        state_lock);
    if (!m) {
      spdlog::error("{}", m.error().describe());
      return 1;
    }
    metrics = std::move(*m);
    spdlog::info("metrics {}", metrics->url());
  }
  server->add("status", [&](const nlohmann::json&) {
    nlohmann::json j = role ? role->status() : nlohmann::json{{"role", "none"}};
    if (sip) j["sip"] = sip->status()["registration"];
    if (l2tp) {
      const auto st = l2tp->status();
      j["l2tp"] = {{"listen", st["listen"]}, {"tunnels", st["tunnels"].size()}, {"sessions", st["sessions"].size()}};
    }
    if (metrics) j["metrics_url"] = metrics->url();
    return j;
  });
  if (role) {
    server->add("rules", [&](const nlohmann::json&) { return role->rules(); });
    server->add("stats", [&](const nlohmann::json&) { return role->stats(); });
    role->add_commands(*server);
  }
  server->add("reload", [&](const nlohmann::json&) { return reload(); });
  // The SIP commands exist whenever [sip] may come with a reload.
  using Type = ControlServer::Field::Type;
  server->add("sip_status", [&](const nlohmann::json&) -> nlohmann::json {
    if (!sip) return {{"error", "no [sip] section: the SIP user agent is not running"}};
    return sip->status();
  });
  server->add("sip_call", {{"uri", Type::kString, true}, {"role", Type::kString}},
              [&](const nlohmann::json& req) -> nlohmann::json {
                if (!sip) return {{"error", "no [sip] section: the SIP user agent is not running"}};
                return sip->call(req);
              });
  server->add("sip_hangup", {{"call", Type::kString, true}}, [&](const nlohmann::json& req) -> nlohmann::json {
    if (!sip) return {{"error", "no [sip] section: the SIP user agent is not running"}};
    return sip->hangup(req);
  });
  server->add("vpn_status", [&](const nlohmann::json&) -> nlohmann::json {
    if (!sip) return {{"error", "no [sip] section: the SIP user agent is not running"}};
    return sip->vpn_status();
  });
  server->add("vpn_disconnect", {{"call", Type::kString, true}}, [&](const nlohmann::json& req) -> nlohmann::json {
    if (!sip) return {{"error", "no [sip] section: the SIP user agent is not running"}};
    return sip->vpn_disconnect(req);
  });
  server->add("l2tp_status", [&](const nlohmann::json&) -> nlohmann::json {
    if (!l2tp) return {{"error", "no [l2tp] section: the L2TP server is not running"}};
    return l2tp->status();
  });
  server->add("l2tp_disconnect", {{"session", Type::kString}, {"user", Type::kString}, {"address", Type::kString}},
              [&](const nlohmann::json& req) -> nlohmann::json {
                if (!l2tp) return {{"error", "no [l2tp] section: the L2TP server is not running"}};
                return l2tp->disconnect(req);
              });
  spdlog::info("control socket {}", cfg->socket_path);

  watch(sfd);
  watch(server->fd());
  const auto role_fds = role ? role->event_fds() : std::vector<int>{};
  for (int fd : role_fds) watch(fd);
  if (sip) watch(sip->fd());
  if (l2tp) watch(l2tp->fd());
  for (;;) {
    epoll_event got[8];
    int n = epoll_wait(ep, got, 8, server->next_timeout_ms());
    std::lock_guard<std::mutex> g(state_lock);
    server->poll();  // ready clients, and those past their deadline
    for (int i = 0; i < n; ++i) {
      const int fd = got[i].data.fd;
      if (fd == server->fd()) continue;
      if (sip && fd == sip->fd()) {
        sip->on_event();
        continue;
      }
      if (l2tp && fd == l2tp->fd()) {
        l2tp->on_event();
        continue;
      }
      if (fd != sfd) {
        if (role) role->on_event(fd);
        continue;
      }
      signalfd_siginfo si{};
      if (read(sfd, &si, sizeof si) != sizeof si) continue;
      if (si.ssi_signo == SIGHUP) {
        auto r = reload();
        if (r.contains("error")) spdlog::error("SIGHUP reload rejected: {}", r["error"].get<std::string>());
        continue;
      }
      spdlog::info("signal {}: stopping", si.ssi_signo);
      if (l2tp) l2tp->stop();
      if (sip) sip->stop();
      if (role) role->stop();
      close(ep);
      close(sfd);
      return 0;
    }
  }
}

}  // namespace
}  // namespace mapgw

int main(int argc, char** argv) {
  CLI::App app{"mapgw - MAP-E gateway daemon (CE or BR role) with the SIP-VPN services"};
  std::string config = mapgw::kDefaultConfigPath;
  std::string check;
  bool check_kernel = false, json = false;
  app.add_option("-c,--config", config, "Configuration file")->capture_default_str();
  app.add_option("--check-config", check, "Validate FILE and exit (0 valid, 2 invalid)");
  app.add_flag("--check-kernel", check_kernel,
               "Load every BPF program of both roles into this kernel's verifier, report, exit "
               "(0 all loaded, 1 not)");
  app.add_flag("--json", json, "With --check-kernel: the report as JSON");
  CLI11_PARSE(app, argc, argv);
  if (!check.empty()) return mapgw::check_config(check);
  if (check_kernel) return mapgw::check_kernel(json);
  return mapgw::run(config);
}
