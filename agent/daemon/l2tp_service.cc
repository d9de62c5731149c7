#include "agent/daemon/l2tp_service.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tuple>

#include "agent/daemon/host_net.h"
#include "vpn/l2tp/address_pool.h"
#include "vpn/l2tp/endpoint.h"
#include "vpn/l2tp/prefix_pool.h"

namespace mapgw {
namespace {

using Clock = std::chrono::steady_clock;

void watch(int ep, int fd, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, on ? &ev : nullptr);
}

nlohmann::json metric(const char* name, const char* help, nlohmann::json labels, double value) {
  return {{"name", name}, {"help", help}, {"labels", std::move(labels)}, {"value", value}};
}

int64_t seconds_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t).count();
}

}  // namespace

Result<std::unique_ptr<L2tpService>> L2tpService::start(const L2tpSection& cfg) {
  std::unique_ptr<L2tpService> s(new L2tpService());
  s->ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (s->ep_ < 0) return make_error("l2tp: epoll", errno);
  if (Status st = s->open(cfg); !st) {
    s->close_all();
    return st.error();
  }
  return s;
}

L2tpService::~L2tpService() {
  close_all();
  if (ep_ >= 0) close(ep_);
}

Status L2tpService::open(const L2tpSection& cfg) {
  cfg_ = cfg;
  started_ = Clock::now();
  const bool ipsec = cfg.ipsec.enabled();
  if (ipsec) {
    vpn::CharonSettings cs;
    cs.run_dir = cfg.run_dir;
    cs.charon = cfg.charon;
    cs.log_level = cfg.charon_log_level;
    cs.ike_port = 500;  // the OS clients start IKE on 500 and float to 4500
    cs.nat_port = 4500;
    const auto choice = vpn::choose_esp_backend(cfg.esp_backend);
    cs.backend = choice.backend;
    cs.tunnel_to_ike_peer = true;  // host-to-host when libipsec: the client's address is the peer's
    backend_ = vpn::to_string(choice.backend);
    l2tp::IpsecSettings is = cfg.ipsec;
    // Transport mode needs the kernel's ESP; libipsec does tunnel mode
    // only: host-to-host with the same selectors (README "L2TP/IPsec").
    is.transport = choice.backend == vpn::EspBackend::kKernel;
    // Clients behind one NAT address need an SA each, told apart by mark.
    is.sa_marks = is.transport && l2tp::kernel_reports_marks();
    sa_marks_ = is.sa_marks;
    spdlog::info("l2tp: ESP in {} ({}): {} mode; charon in {}", backend_, choice.why,
                 is.transport ? "transport" : "tunnel (host-to-host fallback)", cfg.run_dir);
    gate_ = std::make_unique<l2tp::IpsecGate>(is, choice.backend == vpn::EspBackend::kLibipsec,
                                              [this](const std::string& key, const std::string& why) {
                                                ipsec_peer_down(key, why);
                                              });
    vpn::CharonSupervisor::Listener l;
    l.up = [this](vici::Client& c) {
      spdlog::info("l2tp: charon up (pid {})", charon_->pid());
      gate_->charon_up(c);
    };
    l.down = [this](const std::string& why) { gate_->charon_down(why); };
    const std::string parent = cfg.run_dir.substr(0, cfg.run_dir.rfind('/'));
    if (!parent.empty()) mkdir(parent.c_str(), 0700);
    auto sup = vpn::CharonSupervisor::start(cs, l);
    if (!sup) return make_error("l2tp: " + sup.error().describe());
    charon_ = std::move(*sup);
    watch(ep_, charon_->fd(), true);
  }
  l2tp::Server::Hooks h;
  h.client_up = [this](const l2tp::ClientRoute& r) { client_up(r); };
  h.client_down = [this](const l2tp::ClientRoute& r, const std::string& why) { client_down(r, why); };
  h.tunnel_closed = [this](const std::string& peer, const std::string& why) { tunnel_closed(peer, why); };
  h.client_ipv6_up = [this](const l2tp::ClientRoute& r) { client_ipv6(r, true, ""); };
  h.client_ipv6_down = [this](const l2tp::ClientRoute& r, const std::string& why) { client_ipv6(r, false, why); };
  l2tp::DataPath::Admit admit;
  if (cfg.require_ipsec) {
    l2tp::IpsecGate* gate = gate_.get();
    admit = [gate](const l2tp::Endpoint& peer, int ifindex) { return gate->admits(peer, ifindex); };
  }
  l2tp::ServerConfig sc = cfg.server;
  sc.sa_marks = sa_marks_;
  auto server = l2tp::Server::start(sc, h, std::move(admit));
  if (!server) return server.error();
  server_ = std::move(*server);
  watch(ep_, server_->fd(), true);
  const std::string dev = server_->tun().name();
  if (Status st = run_ip({"addr", "replace", l2tp::ipv4_string(cfg.server.lns.link.ipcp.local) + "/32", "dev", dev});
      !st) {
    return make_error("l2tp: " + st.error().describe());
  }
  if (Status st = enable_forwarding(); !st) spdlog::warn("l2tp: {}", st.error().describe());
  std::string where;
  for (const auto& b : server_->bound()) where += (where.empty() ? "" : ", ") + b;
  spdlog::info("l2tp: LNS on {}, TUN {} (MTU {}), pool {}, IPsec {}", where, dev, cfg.server.tun_mtu,
               cfg.server.pool4, cfg.require_ipsec ? "required" : (ipsec ? "optional" : "off"));
  return Status::Ok();
}

void L2tpService::close_all() {
  if (server_) {
    watch(ep_, server_->fd(), false);
    server_.reset();  // the TUN goes with it, and the routes into it
  }
  if (charon_) {
    watch(ep_, charon_->fd(), false);
    charon_->stop();
    charon_.reset();
  }
  gate_.reset();
}

void L2tpService::stop() {
  if (server_) server_->stop(std::chrono::milliseconds(1500));
  close_all();
}

Status L2tpService::reload(const L2tpSection& cfg) {
  if (cfg == cfg_) return Status::Ok();
  if (cfg.same_settings(cfg_) && gate_ && cfg.ipsec.enabled()) {
    // New PSK, certificate, CA or CRL: charon gets them, nobody is cut off.
    cfg_ = cfg;
    l2tp::IpsecSettings is = cfg.ipsec;
    is.transport = backend_ == vpn::to_string(vpn::EspBackend::kKernel);
    is.sa_marks = sa_marks_;
    gate_->reload_credentials(is);
    return Status::Ok();
  }
  const L2tpSection old = cfg_;
  spdlog::info("l2tp: configuration changed: restarting the server");
  stop();
  if (Status st = open(cfg); !st) {
    close_all();
    if (Status back = open(old); !back) spdlog::error("l2tp: the old configuration failed too: {}", back.error().message);
    return st;
  }
  return Status::Ok();
}

void L2tpService::on_event() {
  if (charon_) charon_->on_event();
  if (server_) server_->on_event();
}

void L2tpService::client_up(const l2tp::ClientRoute& r) {
  // The client's MRU is the largest packet it takes: the route's MTU, so
  // the kernel sends "fragmentation needed" rather than we drop.
  const unsigned mtu = std::min<unsigned>(r.peer_mru, cfg_.server.tun_mtu);
  const std::string addr = l2tp::ipv4_string(r.address);
  if (Status st = run_ip({"route", "replace", addr + "/32", "dev", server_->tun().name(), "proto", kRouteProto, "mtu",
                          std::to_string(mtu), "src", l2tp::ipv4_string(cfg_.server.lns.link.ipcp.local)});
      !st) {
    ++route_errors_;
    spdlog::error("l2tp: route to {}: {}", addr, st.error().describe());
  }
  spdlog::info("l2tp: {} up: user {} from {}, address {} (session {}/{})", r.user, r.user, r.peer, addr, r.tunnel,
               r.session);
}

void L2tpService::client_ipv6(const l2tp::ClientRoute& r, bool up, const std::string& why) {
  if (!server_) return;
  const std::string prefix = l2tp::prefix64_string(r.prefix6);
  const unsigned mtu = std::max<unsigned>(1280, std::min<unsigned>(r.peer_mru, cfg_.server.tun_mtu));
  if (up) {
    if (Status st = run_ip({"-6", "route", "replace", prefix, "dev", server_->tun().name(), "proto", kRouteProto,
                            "mtu", std::to_string(mtu)});
        !st) {
      ++route_errors_;
      spdlog::error("l2tp: route to {}: {}", prefix, st.error().describe());
    }
    spdlog::info("l2tp: {}: IPv6 {} advertised", r.user, prefix);
  } else {
    (void)run_ip({"-6", "route", "del", prefix, "dev", server_->tun().name()});
    spdlog::info("l2tp: {}: IPv6 {} withdrawn ({})", r.user, prefix, why);
  }
}

void L2tpService::client_down(const l2tp::ClientRoute& r, const std::string& why) {
  const std::string addr = l2tp::ipv4_string(r.address);
  if (server_) (void)run_ip({"route", "del", addr + "/32", "dev", server_->tun().name()});
  spdlog::info("l2tp: {} down ({}): address {} free", r.user, why, addr);
}

// L2TP tunnel gone: its IPsec SA too when that IPsec peer (the host, or
// one client of several behind its NAT) has no other tunnel (seed 004 §7).
void L2tpService::tunnel_closed(const std::string& peer, const std::string& why) {
  if (!gate_ || !server_) return;
  const std::string key = l2tp::peer_ipsec_key(peer);
  for (const auto& t : server_->lns().tunnel_list()) {
    if (t.peer != peer && l2tp::peer_ipsec_key(t.peer) == key && t.state != "closed") return;
  }
  spdlog::info("l2tp: tunnel of {} ended ({}): deleting its IKE SA", peer, why);
  gate_->end_peer(key);
}

// IPsec gone for a peer: its L2TP tunnels and PPP sessions go.
void L2tpService::ipsec_peer_down(const std::string& key, const std::string& why) {
  ++hosts_down_;
  if (!server_) return;
  const size_t n = server_->close_ipsec_peer(key, why);
  if (n) spdlog::info("l2tp: {}: {} → {} tunnel(s) closed", key, why, n);
}

nlohmann::json L2tpService::status() const {
  nlohmann::json j;
  j["listen"] = server_ ? server_->bound() : std::vector<std::string>{};
  j["tun"] = server_ ? server_->tun().name() : "";
  j["uptime_seconds"] = seconds_since(started_);
  j["require_ipsec"] = cfg_.require_ipsec;
  if (charon_) {
    j["ipsec"] = {{"charon", charon_->state_name()}, {"backend", backend_},
                  {"mode", backend_ == "kernel" ? "transport" : "tunnel"}, {"connection_loaded", gate_->loaded()},
                  {"sa_marks", sa_marks_}};
    nlohmann::json auth = nlohmann::json::array();
    if (cfg_.ipsec.psk_auth()) auth.push_back("psk");
    if (cfg_.ipsec.cert_auth()) {
      auth.push_back("certificate");
      j["ipsec"]["certificate"] = {{"subject", cfg_.cert_subject}, {"not_after", cfg_.cert_not_after},
                                   {"cas", cfg_.ipsec.ca_pems.size()}, {"crl", !cfg_.ipsec.crl_pem.empty()}};
    }
    j["ipsec"]["auth"] = auth;
    nlohmann::json sas = nlohmann::json::array();
    for (const auto& sa : gate_->sas()) {
      sas.push_back({{"ike_id", sa.id}, {"host", sa.host}, {"port", sa.port}, {"remote_id", sa.remote_id},
                     {"auth", sa.auth}, {"state", sa.state}, {"child_sas", sa.children.size()}, {"up_seconds", seconds_since(sa.since)}});
    }
    j["ipsec"]["sas"] = sas;
  }
  nlohmann::json tunnels = nlohmann::json::array();
  nlohmann::json sessions = nlohmann::json::array();
  if (server_) {
    for (const auto& t : server_->lns().tunnel_list()) {
      tunnels.push_back({{"id", t.id}, {"peer_id", t.peer_id}, {"peer", t.peer}, {"host_name", t.peer_host},
                         {"vendor", t.vendor}, {"state", t.state}, {"sessions", t.sessions},
                         {"retransmissions", t.retransmissions}, {"duplicates", t.duplicates}});
    }
    const std::set<std::string> protected_keys = gate_ ? gate_->protected_keys() : std::set<std::string>{};
    for (const auto& s : server_->sessions()) {
      const bool ipsec_up = protected_keys.count(l2tp::peer_ipsec_key(s.peer)) > 0;
      sessions.push_back({{"id", std::to_string(s.tunnel) + "/" + std::to_string(s.session)},
                          {"peer", s.peer},
                          {"user", s.user},
                          {"address", s.address ? l2tp::ipv4_string(s.address) : ""},
                          {"prefix6", s.prefix6 ? l2tp::prefix64_string(s.prefix6) : ""},
                          {"phase", s.phase},
                          {"bytes_in", s.bytes_in},
                          {"bytes_out", s.bytes_out},
                          {"up_seconds", seconds_since(s.started)},
                          {"layers", {{"ipsec", ipsec_up}, {"l2tp", true}, {"ppp", s.phase == "network"}}}});
    }
  }
  j["tunnels"] = tunnels;
  j["sessions"] = sessions;
  return j;
}

nlohmann::json L2tpService::disconnect(const nlohmann::json& req) {
  if (!server_) return {{"error", "the L2TP server is not running"}};
  std::vector<std::pair<uint16_t, uint16_t>> which;
  const std::string session = req.value("session", "");
  const std::string user = req.value("user", "");
  const std::string address = req.value("address", "");
  for (const auto& s : server_->sessions()) {
    const std::string id = std::to_string(s.tunnel) + "/" + std::to_string(s.session);
    if ((!session.empty() && id == session) || (!user.empty() && s.user == user) ||
        (!address.empty() && s.address && l2tp::ipv4_string(s.address) == address)) {
      which.emplace_back(s.tunnel, s.session);
    }
  }
  if (which.empty()) return {{"error", "no such session"}};
  nlohmann::json ended = nlohmann::json::array();
  for (auto [t, s] : which) {
    if (server_->disconnect(t, s)) ended.push_back(std::to_string(t) + "/" + std::to_string(s));
  }
  return {{"disconnected", ended}};
}

nlohmann::json L2tpService::metrics() const {
  nlohmann::json gauges = nlohmann::json::array(), totals = nlohmann::json::array();
  if (!server_) return {{"gauges", gauges}, {"totals", totals}};
  std::map<std::string, size_t> tunnels, phases;
  for (const auto& t : server_->lns().tunnel_list()) ++tunnels[t.state];
  for (const char* st : {"starting", "established", "stopping"}) {
    gauges.push_back(metric("mapgw_l2tp_tunnels", "L2TP control connections, by state", {{"state", st}},
                            static_cast<double>(tunnels[st])));
  }
  for (const auto& s : server_->sessions()) ++phases[s.phase];
  for (const char* ph : {"lcp", "authenticating", "network", "terminating"}) {
    gauges.push_back(metric("mapgw_ppp_sessions", "PPP sessions over L2TP, by phase", {{"phase", ph}},
                            static_cast<double>(phases[ph])));
  }
  if (gate_) {
    size_t up = 0;
    for (const auto& sa : gate_->sas()) up += !sa.children.empty();
    gauges.push_back(metric("mapgw_l2tp_ipsec_sas", "IKEv1 SAs of L2TP clients with a CHILD_SA up", nlohmann::json::object(),
                            static_cast<double>(up)));
    gauges.push_back(metric("mapgw_l2tp_charon_up", "1 when the L2TP server's charon answers", nlohmann::json::object(),
                            charon_ && charon_->up() ? 1 : 0));
  }
  const auto& c = server_->lns().counters();
  const auto& d = server_->data().counters();
  for (auto [method, n] : {std::pair{"pap", c.logins_failed_pap}, std::pair{"chap", c.logins_failed_chap},
                           std::pair{"mschapv2", c.logins_failed_mschapv2}}) {
    totals.push_back(metric("mapgw_ppp_auth_failures_total", "PPP logins refused, by method", {{"method", method}},
                            static_cast<double>(n)));
  }
  totals.push_back(metric("mapgw_ppp_sessions_up_total", "PPP sessions that reached the network phase",
                          nlohmann::json::object(), static_cast<double>(c.sessions_up)));
  uint64_t retransmitted = 0, duplicates = 0;
  for (const auto& t : server_->lns().tunnel_list()) {
    retransmitted += t.retransmissions;
    duplicates += t.duplicates;
  }
  totals.push_back(metric("mapgw_l2tp_duplicates_total",
                          "L2TP control messages a LAC sent again (acknowledged, not acted on twice)",
                          nlohmann::json::object(), static_cast<double>(duplicates + c.duplicates_closed)));
  totals.push_back(metric("mapgw_l2tp_retransmissions_total",
                          "L2TP control messages sent again (tunnels now open, plus those closed)",
                          nlohmann::json::object(), static_cast<double>(retransmitted + c.retransmissions_closed)));
  for (auto [direction, bytes, packets] : {std::tuple{"from_clients", d.to_tun_bytes.load(), d.to_tun_packets.load()},
                                           std::tuple{"to_clients", d.from_tun_bytes.load(), d.from_tun_packets.load()}}) {
    totals.push_back(metric("mapgw_l2tp_bytes_total", "IP bytes carried through L2TP sessions, by direction",
                            {{"direction", direction}}, static_cast<double>(bytes)));
    totals.push_back(metric("mapgw_l2tp_packets_total", "IP packets carried through L2TP sessions, by direction",
                            {{"direction", direction}}, static_cast<double>(packets)));
  }
  // What the TUN offloads save (vpn/l2tp/tun_gro.h, tun_gso.h): system
  // calls against the packets they carry.
  const auto& w = server_->data().tun_writes();
  const std::tuple<const char*, const char*, uint64_t> offloads[] = {
      {"mapgw_l2tp_tun_writes_total", "Writes of client packets to the TUN device (a coalesced TCP burst is one)",
       w.writes},
      {"mapgw_l2tp_tun_coalesced_segments_total",
       "TCP segments from clients written to the TUN device as part of a coalesced packet", w.coalesced},
      {"mapgw_l2tp_tun_reads_total", "Reads of packets for clients from the TUN device (a TCP burst is one)",
       d.tun_reads},
      {"mapgw_l2tp_tun_cut_segments_total", "TCP segments for clients cut from bursts read from the TUN device",
       d.segmented},
  };
  for (const auto& [name, help, n] : offloads) {
    totals.push_back(metric(name, help, nlohmann::json::object(), static_cast<double>(n)));
  }
  const std::vector<std::pair<const char*, uint64_t>> drops = {
      {"not_ipsec", d.not_ipsec},
      {"wrong_peer", d.wrong_peer + c.wrong_source},
      {"spoofed_source", d.spoofed + c.spoofed},
      {"no_session", d.no_session + c.unknown_session},
      {"unknown_tunnel", c.unknown_tunnel},
      {"malformed", c.bad_datagrams},
      {"exceeds_mru", d.exceeds_mru},
      {"control_queue_full", d.control_queue_full},
      {"tunnel_limit", c.tunnels_refused},
      {"tunnel_rate_limit", c.tunnels_rate_limited},
      {"session_limit", c.sessions_refused},
      {"duplicate_login", c.duplicate_logins_refused},
      {"tun_write_error", server_->data().tun_writes().failed_packets},
      {"tun_offload", d.tun_offload},
      {"send_error", d.send_errors},
  };
  for (const auto& [reason, n] : drops) {
    totals.push_back(metric("mapgw_l2tp_drops_total", "L2TP datagrams, packets and requests refused, by reason",
                            {{"reason", reason}}, static_cast<double>(n)));
  }
  totals.push_back(metric("mapgw_l2tp_sessions_replaced_total", "Sessions ended by a new login of the same user",
                          nlohmann::json::object(), static_cast<double>(c.sessions_replaced)));
  if (gate_) {
    const auto& g = gate_->counters();
    for (auto [event, n] : {std::pair{"ike_up", g.ike_up}, std::pair{"ike_down", g.ike_down},
                            std::pair{"deleted_by_us", g.deleted_by_us}}) {
      totals.push_back(metric("mapgw_l2tp_ipsec_events_total", "IKE and IPsec SAs of L2TP clients going up and down",
                              {{"event", event}}, static_cast<double>(n)));
    }
  }
  return {{"gauges", gauges}, {"totals", totals}};
}

}  // namespace mapgw
