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
#include <iostream>

#include "agent/config/config.h"
#include "agent/daemon/br_service.h"
#include "agent/daemon/control_server.h"
#include "loader/libbpf_log.h"

namespace mapgw {
namespace {

int check_config(const std::string& path) {
  auto cfg = load_config_file(path);
  if (!cfg) {
    std::cerr << "mapgw: " << cfg.error().describe() << "\n";
    return 2;
  }
  size_t rules = 0;
  for (const auto& d : cfg->br.domains) rules += d.rules.size();
  std::cout << path << ": OK (role br, " << cfg->br.domains.size() << " domain(s), " << rules
            << " rule(s))\n";
  return 0;
}

int run(const std::string& path) {
  auto cfg = load_config_file(path);
  if (!cfg) {
    spdlog::error("{}", cfg.error().describe());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  route_libbpf_logs(cfg->log_level == "trace");

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
  auto svc = BrService::start(*cfg);
  if (!svc) {
    spdlog::error("starting the BR: {}", svc.error().describe());
    return 1;
  }
  BrService& br = **svc;
  auto reload = [&]() -> nlohmann::json {
    auto next = load_config_file(path);
    if (!next) return {{"error", next.error().describe()}};
    if (auto st = br.reload(*next); !st) return {{"error", st.error().describe()}};
    return {{"reloaded", true}, {"rules", br.rules()["rules"].size()}};
  };
  server->add("status", [&](const nlohmann::json&) { return br.status(); });
  server->add("rules", [&](const nlohmann::json&) { return br.rules(); });
  server->add("stats", [&](const nlohmann::json&) { return br.stats(); });
  server->add("reload", [&](const nlohmann::json&) { return reload(); });
  spdlog::info("control socket {}", cfg->socket_path);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = sfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  ev.data.fd = server->fd();
  epoll_ctl(ep, EPOLL_CTL_ADD, server->fd(), &ev);
  for (;;) {
    epoll_event got[4];
    int n = epoll_wait(ep, got, 4, -1);
    for (int i = 0; i < n; ++i) {
      if (got[i].data.fd == server->fd()) {
        server->serve_one();
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
      br.stop();
      close(ep);
      close(sfd);
      return 0;
    }
  }
}

}  // namespace
}  // namespace mapgw

int main(int argc, char** argv) {
  CLI::App app{"mapgw - MAP-E gateway daemon (BR role)"};
  std::string config = mapgw::kDefaultConfigPath;
  std::string check;
  app.add_option("-c,--config", config, "Configuration file")->capture_default_str();
  app.add_option("--check-config", check, "Validate FILE and exit (0 valid, 2 invalid)");
  CLI11_PARSE(app, argc, argv);
  if (!check.empty()) return mapgw::check_config(check);
  return mapgw::run(config);
}
