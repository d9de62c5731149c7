#include "agent/daemon/sip_service.h"

#include "vpn/sipvpn/certificate.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>


namespace mapgw {
namespace {

using sip::Clock;

int64_t seconds_until(sip::TimePoint at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at - Clock::now()).count();
}

// Everything of [sipvpn] a running endpoint depends on: a change restarts it.
std::string vpn_key(const std::optional<SipVpnSection>& v) {
  if (!v) return "";
  const auto& t = v->vpn.tunnel;
  nlohmann::json j = {v->esp_backend, v->run_dir, v->charon, v->charon_log_level, v->certificate,
                      v->certificate_key, t.ike_proposals, t.esp_proposals, t.ike_rekey.count(),
                      t.child_rekey.count(), t.dpd.count(), t.pool4, t.pool6, t.dns4, t.dns6, t.subnets,
                      t.match_peer_identity, v->vpn.psk, v->vpn.permitted_peers, v->vpn.ike_timeout.count(),
                      v->vpn.delete_timeout.count(), v->vpn.eap_users, v->vpn.eap_user, v->vpn.eap_password};
  return j.dump();
}

nlohmann::json metric(const char* name, const char* help, nlohmann::json labels, double value) {
  return {{"name", name}, {"help", help}, {"labels", std::move(labels)}, {"value", value}};
}

}  // namespace

Result<std::unique_ptr<SipService>> SipService::start(const SipConfig& cfg,
                                                      const std::optional<SipVpnSection>& vpn) {
  std::unique_ptr<SipService> s(new SipService());
  s->ep_ = epoll_create1(EPOLL_CLOEXEC);
  s->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (s->ep_ < 0 || s->timer_fd_ < 0) return make_error("sip: epoll/timerfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s->timer_fd_;
  epoll_ctl(s->ep_, EPOLL_CTL_ADD, s->timer_fd_, &ev);
  s->vpn_cfg_input_ = vpn;
  if (Status st = s->open(cfg, vpn); !st) return st.error();
  return s;
}

SipService::~SipService() {
  close_ua();
  if (timer_fd_ >= 0) close(timer_fd_);
  if (ep_ >= 0) close(ep_);
}

Status SipService::start_vpn(const SipVpnSection& v) {
  vpn::CharonSettings cs;
  cs.run_dir = v.run_dir;
  cs.charon = v.charon;
  cs.log_level = v.charon_log_level;
  cs.nat_port = resolved_.ike.port;  // charon's NAT-T port is the one our SDP announces
  const auto choice = vpn::choose_esp_backend(v.esp_backend);
  cs.backend = choice.backend;
  spdlog::info("sipvpn: ESP in {} ({}); charon in {}", vpn::to_string(choice.backend), choice.why, v.run_dir);
  vpn::CharonSupervisor::Listener l;
  l.up = [this](vici::Client& c) {
    spdlog::info("sipvpn: charon up (pid {})", charon_->pid());
    if (sipvpn_) sipvpn_->charon_up(c);
  };
  l.down = [this](const std::string& why) {
    if (sipvpn_) sipvpn_->charon_down(why);
  };
  // The parent directory of the run directory: private too.
  const std::string parent = v.run_dir.substr(0, v.run_dir.rfind('/'));
  if (!parent.empty()) mkdir(parent.c_str(), 0700);
  auto sup = vpn::CharonSupervisor::start(cs, l);
  if (!sup) return make_error("sipvpn: " + sup.error().describe());
  charon_ = std::move(*sup);
  sipvpn_ = std::make_unique<vpn::SipVpn>(v.vpn, *ua_, *charon_);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = charon_->fd();
  epoll_ctl(ep_, EPOLL_CTL_ADD, charon_->fd(), &ev);
  vpn_cfg_ = v;
  return Status::Ok();
}

Status SipService::open(const SipConfig& cfg, const std::optional<SipVpnSection>& vpn_in) {
  auto resolved = resolve_sip_config(cfg);
  if (!resolved) return make_error("sip: " + resolved.error().message);
  std::optional<SipVpnSection> vpn = vpn_in;
  if (vpn && resolved->ike.caps.server && resolved->ike.caps.password) {
    // The server's self-signed certificate: its fingerprint goes into our
    // SDP (a=fingerprint), the certificate and key into charon.
    const std::string dir = vpn->certificate.substr(0, vpn->certificate.rfind('/'));
    if (!dir.empty()) mkdir(dir.c_str(), 0700);
    auto cert = vpn::load_or_create_certificate(vpn->certificate, vpn->certificate_key,
                                                vpn::ike_identity(resolved->aor));
    if (!cert) return make_error("sipvpn: " + cert.error().describe());
    if (resolved->ike.cert_fingerprint && !(*resolved->ike.cert_fingerprint == cert->fingerprint)) {
      // An explicit [sip.ike] certificate_fingerprint wins (the operator's
      // word); clients will refuse the certificate charon presents.
      spdlog::warn("sipvpn: [sip.ike] certificate_fingerprint {} is not the certificate's {}",
                   resolved->ike.cert_fingerprint->str(), cert->fingerprint.str());
    } else {
      resolved->ike.cert_fingerprint = cert->fingerprint;
    }
    vpn->vpn.cert_pem = cert->cert_pem;
    vpn->vpn.key_pem = cert->key_pem;
    spdlog::info("sipvpn: server certificate {} ({})", vpn->certificate, cert->fingerprint.str());
  }
  auto transport = sip::UdpTransport::open(resolved->local_v6, resolved->local_v4);
  if (!transport) return make_error("sip: " + transport.error().describe());
  auto ua = sip::UserAgent::create(*resolved, **transport);
  if (!ua) return make_error("sip: " + ua.error().message);
  cfg_ = cfg;
  resolved_ = *resolved;
  transport_ = std::move(*transport);
  ua_ = std::move(*ua);
  for (int fd : transport_->fds()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }
  std::string where;
  for (bool v6 : {true, false}) {
    if (auto b = transport_->bound(v6)) where += (where.empty() ? "" : ", ") + b->str();
  }
  spdlog::info("sip: {} on {}{}", cfg.ua.aor, where,
               cfg.ua.registrar.empty() ? " (no registration)" : ", registering at " + cfg.ua.registrar);
  ua_->start(Clock::now());
  if (vpn) {
    if (Status st = start_vpn(*vpn); !st) return st;
  }
  arm_timer();
  return Status::Ok();
}

void SipService::close_ua() {
  sipvpn_.reset();
  if (charon_) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, charon_->fd(), nullptr);
    charon_->stop();
    charon_.reset();
  }
  if (!transport_) return;
  for (int fd : transport_->fds()) epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  ua_.reset();
  transport_.reset();
}

void SipService::stop() {
  if (!ua_) return;
  if (sipvpn_) {
    // TS-1017 §4.2 on the way down too: IKE deletes, then the BYEs.
    for (const auto& [call, t] : sipvpn_->tunnels()) {
      if (t.state != vpn::SipVpn::State::kDown) (void)sipvpn_->disconnect(call);
    }
    const auto until = Clock::now() + std::chrono::milliseconds(1500);
    while (Clock::now() < until && charon_ && charon_->up()) {
      bool busy = false;
      for (const auto& [call, t] : sipvpn_->tunnels()) busy = busy || t.state == vpn::SipVpn::State::kClosing;
      if (!busy) break;
      epoll_event got[4];
      if (epoll_wait(ep_, got, 4, 100) > 0) on_event();
    }
  }
  ua_->stop(Clock::now());
  // Bounded: wait for the answers to the un-REGISTER and the BYEs.
  const auto until = Clock::now() + kStopGrace;
  while (Clock::now() < until) {
    bool busy = ua_->registration() && ua_->registration()->state() == sip::Registration::State::kUnregistering;
    for (const auto* c : ua_->calls()) busy = busy || !c->ended();
    if (!busy) break;
    epoll_event got[4];
    const int wait = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
    if (epoll_wait(ep_, got, 4, std::max(wait, 0)) > 0) on_event();
  }
  close_ua();
}

Status SipService::reload(const SipConfig& cfg, const std::optional<SipVpnSection>& vpn) {
  const bool same_vpn = vpn_key(vpn) == vpn_key(vpn_cfg_input_);
  if (cfg == cfg_ && same_vpn) return Status::Ok();
  const SipConfig old = cfg_;
  const auto old_vpn = vpn_cfg_;
  spdlog::info("sip: configuration changed: restarting the user agent");
  stop();
  vpn_cfg_input_ = vpn;
  if (Status st = open(cfg, vpn); !st) {
    close_ua();
    vpn_cfg_input_ = old_vpn;
    if (Status back = open(old, old_vpn); !back) {
      spdlog::error("sip: the old configuration failed too: {}", back.error().message);
    }
    return st;
  }
  return Status::Ok();
}

void SipService::arm_timer() {
  if (!ua_) return;
  const auto now = Clock::now();
  auto at = ua_->next_deadline(now);
  if (sipvpn_) {
    if (auto v = sipvpn_->next_deadline(); v && *v < at) at = *v;
  }
  auto d = at - now;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 1000000) ns = 1000000;  // at least 1 ms: a zero would disarm it
  itimerspec its{};
  its.it_value.tv_sec = ns / 1000000000;
  its.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(timer_fd_, 0, &its, nullptr);
}

void SipService::on_event() {
  if (!ua_) return;
  uint64_t expirations = 0;
  (void)!read(timer_fd_, &expirations, sizeof expirations);
  if (charon_) charon_->on_event();
  for (int fd : transport_->fds()) {
    // Bounded per wake-up so one flooding socket cannot starve the loop.
    for (auto& d : transport_->receive(fd, 256)) {
      ua_->receive(d.data, d.from, d.truncated, Clock::now());
    }
  }
  ua_->on_timer(Clock::now());
  if (sipvpn_) sipvpn_->on_timer(Clock::now());
  arm_timer();
}

nlohmann::json SipService::call_json(const sip::Call& c) const {
  nlohmann::json j = {
      {"id", c.id()},
      {"direction", c.direction() == sip::Call::Direction::kOutgoing ? "outgoing" : "incoming"},
      {"state", c.state_name()},
      {"peer", c.peer_identity()},
      {"target", c.target()},
      {"call_id", c.call_id()}};
  if (c.final_status()) j["final_status"] = c.final_status();
  if (!c.end_reason().empty()) j["end_reason"] = c.end_reason();
  if (const auto& p = c.ike_peer()) {
    nlohmann::json ike = {{"address", p->address},
                          {"port", p->port},
                          {"family", p->ipv6 ? "ipv6" : "ipv4"},
                          {"local_role", sip::to_string(p->local_role)},
                          {"auth", sip::to_string(p->auth)}};
    if (p->server_cert) ike["server_certificate"] = p->server_cert->str();
    if (p->peer_psk) ike["peer_psk"] = p->peer_psk->str();
    if (p->bandwidth_kbps) ike["bandwidth_kbps"] = *p->bandwidth_kbps;
    j["ike"] = ike;
  }
  if (c.timer().interval) {
    nlohmann::json t = {{"interval", c.timer().interval},
                        {"refresher", c.timer().we_refresh ? "us" : "peer"}};
    if (auto at = c.timer_deadline()) t[c.timer().we_refresh ? "refresh_in" : "expires_in"] = seconds_until(*at);
    j["session_timer"] = t;
  }
  if (!c.local_sdp().empty()) j["local_sdp"] = c.local_sdp();
  if (!c.remote_sdp().empty()) j["remote_sdp"] = c.remote_sdp();
  return j;
}

nlohmann::json SipService::status() const {
  nlohmann::json j = {{"aor", cfg_.ua.aor}};
  if (!ua_) return j;
  nlohmann::json local = nlohmann::json::array();
  for (bool v6 : {true, false}) {
    if (auto b = transport_->bound(v6)) local.push_back(b->str());
  }
  j["listen"] = local;
  if (const auto* r = ua_->registration()) {
    nlohmann::json reg = {{"registrar", cfg_.ua.registrar}, {"state", r->state_name()}};
    if (r->granted_expires()) reg["granted"] = r->granted_expires();
    if (auto at = r->expires_at()) reg["expires_in"] = seconds_until(*at);
    if (r->last_status()) reg["last_status"] = r->last_status();
    if (!r->last_error().empty()) reg["last_error"] = r->last_error();
    if (r->state() == sip::Registration::State::kRetryWait) reg["retry_backoff"] = r->current_backoff().count();
    j["registration"] = reg;
  } else {
    j["registration"] = {{"state", "off"}};
  }
  j["calls"] = nlohmann::json::array();
  for (const auto* c : ua_->calls()) j["calls"].push_back(call_json(*c));
  j["recent"] = nlohmann::json::array();
  for (const auto* c : ua_->recent_calls()) j["recent"].push_back(call_json(*c));
  j["transactions"] = ua_->transactions();
  return j;
}

nlohmann::json SipService::metrics() const {
  nlohmann::json gauges = nlohmann::json::array(), totals = nlohmann::json::array();
  if (!ua_) return {{"gauges", gauges}, {"totals", totals}};
  const auto* reg = ua_->registration();
  for (const char* s : {"off", "idle", "registering", "registered", "retry_wait", "unregistering", "stopped"}) {
    const char* now = reg ? reg->state_name() : "off";
    gauges.push_back(metric("mapgw_sip_registration_state", "SIP registration state (1 = current)",
                            {{"state", s}}, std::string(now) == s ? 1 : 0));
  }
  std::map<std::string, int> by_state;
  for (const char* s : {"calling", "proceeding", "incoming", "answered", "established", "terminating"}) by_state[s] = 0;
  for (const auto* c : ua_->calls()) {
    if (!c->ended()) ++by_state[c->state_name()];
  }
  for (const auto& [s, n] : by_state) {
    gauges.push_back(metric("mapgw_sip_calls", "SIP calls now, by state", {{"state", s}}, n));
  }
  gauges.push_back(metric("mapgw_sip_transactions", "SIP transactions in libosip2", nlohmann::json::object(),
                          static_cast<double>(ua_->transactions())));
  const auto& k = ua_->counters();
  const auto& s = ua_->stack_counters();
  totals.push_back(metric("mapgw_sip_registrations_total", "REGISTER outcomes", {{"result", "ok"}}, k.registrations_ok));
  totals.push_back(metric("mapgw_sip_registrations_total", "REGISTER outcomes", {{"result", "failed"}},
                          k.registrations_failed));
  totals.push_back(metric("mapgw_sip_auth_failures_total", "Digest challenges our credentials did not pass",
                          nlohmann::json::object(), k.auth_failures));
  totals.push_back(metric("mapgw_sip_calls_started_total", "SIP calls started", {{"direction", "outgoing"}},
                          k.calls_started[0]));
  totals.push_back(metric("mapgw_sip_calls_started_total", "SIP calls started", {{"direction", "incoming"}},
                          k.calls_started[1]));
  for (const auto& [result, n] : k.call_results) {
    totals.push_back(metric("mapgw_sip_call_results_total", "SIP calls ended, by reason", {{"result", result}}, n));
  }
  for (int r = 1; r < sip::kSdpRejectCount; ++r) {
    totals.push_back(metric("mapgw_sip_sdp_rejects_total", "SDP offers and answers refused (488), by rule",
                            {{"reason", sip::to_string(static_cast<sip::SdpReject>(r))}}, k.sdp_rejects[r]));
  }
  for (int r = 0; r < static_cast<int>(sip::RequestDrop::kCount); ++r) {
    totals.push_back(metric("mapgw_sip_request_drops_total", "SIP requests not served, by reason",
                            {{"reason", sip::to_string(static_cast<sip::RequestDrop>(r))}}, k.request_drops[r]));
  }
  totals.push_back(metric("mapgw_sip_messages_total", "SIP messages", {{"direction", "rx"}}, s.rx_messages));
  totals.push_back(metric("mapgw_sip_messages_total", "SIP messages", {{"direction", "tx"}}, s.tx_messages));
  totals.push_back(metric("mapgw_sip_retransmissions_total", "SIP retransmissions", {{"direction", "rx"}},
                          s.rx_retransmissions));
  totals.push_back(metric("mapgw_sip_retransmissions_total", "SIP retransmissions", {{"direction", "tx"}},
                          s.tx_retransmissions));
  for (auto [kind, n] : {std::pair{"unparsable", s.rx_parse_errors}, std::pair{"malformed", s.rx_malformed},
                         std::pair{"oversized", s.rx_oversized}}) {
    totals.push_back(metric("mapgw_sip_parse_errors_total", "SIP datagrams dropped before any transaction",
                            {{"kind", kind}}, n));
  }
  totals.push_back(metric("mapgw_sip_send_errors_total", "SIP messages the socket refused", nlohmann::json::object(),
                          s.tx_errors));
  totals.push_back(metric("mapgw_sip_transaction_timeouts_total", "Client transactions without a final answer",
                          nlohmann::json::object(), s.timeouts));
  totals.push_back(metric("mapgw_sip_session_refreshes_total", "RFC 4028 session refreshes", {{"direction", "sent"}},
                          k.session_refreshes_sent));
  totals.push_back(metric("mapgw_sip_session_refreshes_total", "RFC 4028 session refreshes",
                          {{"direction", "received"}}, k.session_refreshes_received));
  totals.push_back(metric("mapgw_sip_sessions_expired_total", "Sessions ended because no refresh came",
                          nlohmann::json::object(), k.sessions_expired));
  totals.push_back(metric("mapgw_sip_forked_answers_released_total",
                          "Extra 2xx of a forked INVITE, ACKed and ended with BYE", nlohmann::json::object(),
                          k.forked_answers_released));
  if (sipvpn_) {
    const auto& v = sipvpn_->counters();
    gauges.push_back(metric("mapgw_sipvpn_charon_up", "1 while the supervised charon answers over VICI",
                            nlohmann::json::object(), charon_->up() ? 1 : 0));
    totals.push_back(metric("mapgw_sipvpn_charon_restarts_total", "charon restarts after it died or hung",
                            nlohmann::json::object(), charon_->restarts()));
    std::map<std::string, int> states;
    for (const char* st : {"loading", "connecting", "up", "closing"}) states[st] = 0;
    for (const auto& [call, t] : sipvpn_->tunnels()) {
      if (t.state != vpn::SipVpn::State::kDown) ++states[vpn::SipVpn::to_string(t.state)];
    }
    for (const auto& [st, n] : states) {
      gauges.push_back(metric("mapgw_sipvpn_tunnels", "SIP-VPN tunnels now, by state", {{"state", st}}, n));
    }
    totals.push_back(metric("mapgw_sipvpn_tunnels_up_total", "Tunnels that came up", nlohmann::json::object(), v.up));
    for (const char* reason :
         {"ike_timeout", "ike_down", "charon_down", "certificate_mismatch", "ike_auth_failed", "duplicate_peer"}) {
      auto it = v.failures.find(reason);
      totals.push_back(metric("mapgw_sipvpn_failures_total", "Calls ended by a tunnel failure, by reason",
                              {{"reason", reason}}, it == v.failures.end() ? 0 : it->second));
    }
    totals.push_back(metric("mapgw_sipvpn_rekeys_total", "SA rekeys", {{"kind", "child"}}, v.child_rekeys));
    totals.push_back(metric("mapgw_sipvpn_rekeys_total", "SA rekeys", {{"kind", "ike"}}, v.ike_rekeys));
    totals.push_back(metric("mapgw_sipvpn_refused_peers_total", "Calls refused: caller not in permitted_peers",
                            nlohmann::json::object(), v.refused_peers));
    totals.push_back(metric("mapgw_sipvpn_refused_duplicates_total",
                            "Calls refused with 486: the peer (address and identity) has its tunnel already",
                            nlohmann::json::object(), v.refused_duplicates));
    uint64_t in = v.bytes_in_closed, out = v.bytes_out_closed;
    for (const auto& [call, t] : sipvpn_->tunnels()) {
      in += t.bytes_in;
      out += t.bytes_out;
    }
    totals.push_back(metric("mapgw_sipvpn_bytes_total", "ESP payload bytes through SIP-VPN tunnels (polled every 2 s)",
                            {{"direction", "in"}}, in));
    totals.push_back(metric("mapgw_sipvpn_bytes_total", "ESP payload bytes through SIP-VPN tunnels (polled every 2 s)",
                            {{"direction", "out"}}, out));
  }
  return {{"gauges", gauges}, {"totals", totals}};
}

nlohmann::json SipService::call(const nlohmann::json& req) {
  if (!ua_) return {{"error", "sip is not running"}};
  const std::string role = req.value("role", "");
  sip::VpnRole r = resolved_.ike.caps.client ? sip::VpnRole::kClient : sip::VpnRole::kServer;
  if (role == "client") {
    r = sip::VpnRole::kClient;
  } else if (role == "server") {
    r = sip::VpnRole::kServer;
  } else if (!role.empty()) {
    return {{"error", "role is \"client\" or \"server\""}};
  }
  if ((r == sip::VpnRole::kClient && !resolved_.ike.caps.client) ||
      (r == sip::VpnRole::kServer && !resolved_.ike.caps.server)) {
    return {{"error", std::string("this endpoint has no ") + sip::to_string(r) + " role ([sip.ike] roles)"}};
  }
  auto id = ua_->call(req["uri"].get<std::string>(), r, Clock::now());
  arm_timer();
  if (!id) return {{"error", id.error().message}};
  return {{"call", *id}};
}

nlohmann::json SipService::vpn_status() const {
  if (!sipvpn_) return {{"error", "no [sipvpn] section: calls are not tunnels"}};
  nlohmann::json j = {{"charon", {{"state", charon_->state_name()},
                                  {"pid", charon_->pid()},
                                  {"restarts", charon_->restarts()},
                                  {"esp", vpn::to_string(charon_->settings().backend)},
                                  {"last_exit", charon_->last_exit()}}}};
  j["tunnels"] = nlohmann::json::array();
  for (const auto& [call, t] : sipvpn_->tunnels()) {
    const sip::Call* c = ua_->find_call(call);
    nlohmann::json e = {{"call", call},
                        {"state", vpn::SipVpn::to_string(t.state)},
                        {"connection", t.t.name},
                        {"peer", c ? c->peer_identity() : ""},
                        {"direction", c && c->direction() == sip::Call::Direction::kOutgoing ? "outgoing" : "incoming"},
                        {"role", sip::to_string(t.t.peer.local_role)},
                        {"auth", sip::to_string(t.t.peer.auth)},
                        {"local", "[" + t.t.local_address + "]:" + std::to_string(t.t.local_port)},
                        {"remote", "[" + t.t.peer.address + "]:" + std::to_string(t.t.peer.port)},
                        {"ike", t.ike_state},
                        {"child", t.child_state},
                        {"spi_in", t.spi_in},
                        {"spi_out", t.spi_out},
                        {"virtual_ips", t.virtual_ips},
                        {"remote_networks", t.remote_ts},
                        {"bytes_in", t.bytes_in},
                        {"bytes_out", t.bytes_out},
                        {"packets_in", t.packets_in},
                        {"packets_out", t.packets_out}};
    if (t.state == vpn::SipVpn::State::kUp) {
      e["up_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t.up_at).count();
    }
    if (t.last_rekey_at) {
      e["last_rekey"] = {{"kind", t.last_rekey},
                         {"seconds_ago",
                          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - *t.last_rekey_at).count()}};
    }
    if (!t.end_reason.empty()) e["end_reason"] = t.end_reason;
    j["tunnels"].push_back(e);
  }
  const auto& k = sipvpn_->counters();
  j["counters"] = {{"up", k.up}, {"failures", k.failures}, {"child_rekeys", k.child_rekeys},
                   {"ike_rekeys", k.ike_rekeys}, {"refused_peers", k.refused_peers},
                   {"refused_duplicates", k.refused_duplicates}};
  j["received_dns"] = charon_->received_dns();
  return j;
}

nlohmann::json SipService::vpn_disconnect(const nlohmann::json& req) {
  if (!sipvpn_) return {{"error", "no [sipvpn] section: calls are not tunnels"}};
  Status st = sipvpn_->disconnect(req["call"].get<std::string>());
  arm_timer();
  if (!st) return {{"error", st.error().message}};
  return {{"disconnecting", req["call"]}};
}

nlohmann::json SipService::hangup(const nlohmann::json& req) {
  if (!ua_) return {{"error", "sip is not running"}};
  Status st = ua_->hangup(req["call"].get<std::string>(), Clock::now());
  arm_timer();
  if (!st) return {{"error", st.error().message}};
  return {{"hangup", req["call"]}};
}

}  // namespace mapgw
