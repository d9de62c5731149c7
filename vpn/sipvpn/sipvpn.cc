#include "vpn/sipvpn/sipvpn.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "vpn/sipvpn/certificate.h"

namespace mapgw::vpn {
namespace {

std::string conn_name(const std::string& call) { return "sipvpn-" + call; }

}  // namespace

const char* SipVpn::to_string(State s) {
  switch (s) {
    case State::kLoading: return "loading";
    case State::kConnecting: return "connecting";
    case State::kUp: return "up";
    case State::kClosing: return "closing";
    case State::kDown: return "down";
  }
  return "?";
}

SipVpn::SipVpn(SipVpnConfig cfg, sip::UserAgent& ua, CharonSupervisor& charon)
    : cfg_(std::move(cfg)), ua_(ua), charon_(charon) {
  ua_.set_observer(this);
  if (charon_.vici()) charon_up(*charon_.vici());
}

SipVpn::~SipVpn() { ua_.set_observer(nullptr); }

void SipVpn::request(const std::string& cmd, vici::Message args, const std::string& what) {
  vici::Client* c = charon_.vici();
  if (!c) return;
  c->request(cmd, std::move(args), [cmd, what](Result<vici::Message> r) {
    if (!r) {
      spdlog::warn("sipvpn: {} {}: {}", cmd, what, r.error().message);
    } else if (r->value("success") && !r->yes("success")) {
      const std::string err = r->value_or("errmsg", "failed");
      // A terminate after our delete or the peer's found nothing: fine.
      if (cmd == "terminate" && err.find("no matching SAs") != std::string::npos) return;
      spdlog::warn("sipvpn: {} {}: {}", cmd, what, err);
    }
  });
}

void SipVpn::charon_up(vici::Client& c) {
  c.set_event_handler([this](const std::string& name, const vici::Message& m) { on_event(name, m); });
  for (const char* e : {"ike-updown", "child-updown", "ike-rekey", "child-rekey"}) {
    c.subscribe(e, [e](Result<vici::Message> r) {
      if (!r) spdlog::error("sipvpn: subscribing to {}: {}", e, r.error().message);
    });
  }
  for (const char* e : {"list-cert", "list-sa"}) {
    c.subscribe(e, [e](Result<vici::Message> r) {
      if (!r) spdlog::error("sipvpn: subscribing to {}: {}", e, r.error().message);
    });
  }
  polling_sas_ = false;
  for (auto& pool : load_pool_messages(cfg_.tunnel, "sipvpn")) request("load-pool", std::move(pool), "pools");
  // Password mode credentials: the server's key and users, the client's own.
  if (!cfg_.key_pem.empty()) {
    vici::Message key;
    key.set("type", "any").set("data", cfg_.key_pem);
    request("load-key", std::move(key), "server key");
  }
  for (const auto& [user, pw] : cfg_.eap_users) {
    vici::Message sec;
    sec.set("id", "eap-" + user).set("type", "EAP").set("data", pw).set_list("owners", {user});
    request("load-shared", std::move(sec), "EAP user " + user);
  }
  if (!cfg_.eap_user.empty()) {
    vici::Message sec;
    sec.set("id", "eap-self").set("type", "EAP").set("data", cfg_.eap_password).set_list("owners", {cfg_.eap_user});
    request("load-shared", std::move(sec), "EAP credentials");
  }
  verified_certs_.clear();  // a new charon has loaded none of them
}

void SipVpn::charon_down(const std::string& why) {
  spdlog::error("sipvpn: charon down ({}): ending {} call(s)", why, tunnels_.size());
  std::vector<std::string> calls;
  for (auto& [call, t] : tunnels_) {
    if (t.state != State::kDown) calls.push_back(call);
  }
  for (const auto& call : calls) {
    Tunnel& t = tunnels_[call];
    ++counters_.failures["charon_down"];
    t.state = State::kDown;
    t.end_reason = "charon_down";
    (void)ua_.hangup(call, Clock::now());
  }
}

int SipVpn::screen_incoming(const sip::Call& c) {
  if (!charon_.up()) return 503;  // no IKE daemon: refuse rather than half-open
  if (!cfg_.permitted_peers.empty() && !cfg_.permitted_peers.count(ike_identity(c.peer_identity()))) {
    ++counters_.refused_peers;
    return 403;
  }
  if (c.ike_peer() && live_tunnel_to(c.ike_peer()->address, ike_identity(c.peer_identity()), c.id())) {
    ++counters_.refused_duplicates;
    return 486;  // Busy Here: this peer has its tunnel already
  }
  return 0;
}

const SipVpn::Tunnel* SipVpn::live_tunnel_to(const std::string& address, const std::string& remote_id,
                                             const std::string& except_call) const {
  // charon tells IKE SAs apart by addresses and identities: a second
  // tunnel with the same peer would be taken for the first one's.
  for (const auto& [call, t] : tunnels_) {
    if (call != except_call && t.state != State::kDown && !t.unloaded && t.t.peer.address == address &&
        t.t.remote_id == remote_id) {
      return &t;
    }
  }
  return nullptr;
}

void SipVpn::call_answering(const sip::Call& c) {
  // Only a responder gets ready now; an initiator starts IKE once the
  // dialog is confirmed (the ACK), when the far side has its connection.
  if (c.ike_peer() && c.ike_peer()->local_role == sip::VpnRole::kServer) start_tunnel(c);
}

void SipVpn::call_established(const sip::Call& c) {
  auto it = tunnels_.find(c.id());
  if (it != tunnels_.end() && it->second.state != State::kDown) return;  // loaded while answering
  start_tunnel(c);
}

void SipVpn::start_tunnel(const sip::Call& c) {
  const auto& peer = *c.ike_peer();
  Tunnel tun;
  tun.call = c.id();
  tun.started = Clock::now();
  CallTunnel& t = tun.t;
  t.name = conn_name(c.id());
  auto ours = sip::parse_ike_sdp(c.local_sdp());
  t.local_address = ours.ok() ? ours.value.address : "";
  t.local_port = ours.ok() ? ours.value.port : 4500;
  t.peer = peer;
  t.local_id = ike_identity(ua_.config().aor);
  t.remote_id = ike_identity(c.peer_identity());
  t.psk = cfg_.psk;
  t.inner_ipv4 = cfg_.tunnel.inner_ipv4;
  t.inner_ipv6 = cfg_.tunnel.inner_ipv6;
  auto [it, fresh] = tunnels_.insert_or_assign(c.id(), std::move(tun));
  Tunnel& tr = it->second;
  if (!charon_.vici()) {
    fail(tr, "charon_down");
    return;
  }
  if (const Tunnel* other = live_tunnel_to(peer.address, tr.t.remote_id, c.id())) {
    spdlog::warn("sipvpn: call {}: [{}] ({}) has its tunnel already (call {})", c.id(), peer.address,
                 tr.t.remote_id, other->call);
    fail(tr, "duplicate_peer");
    return;
  }
  tr.state = State::kConnecting;
  tr.deadline = Clock::now() + cfg_.ike_timeout;
  if (peer.auth == sip::IkeAuth::kPassword) {
    tr.t.cert_pem = cfg_.cert_pem;
    tr.t.eap_user = cfg_.eap_user;
    if (peer.local_role == sip::VpnRole::kClient) {
      initiate_password(c.id());
    } else {
      request("load-conn", load_conn_message(cfg_.tunnel, tr.t), tr.t.name);
    }
    spdlog::info("sipvpn: call {}: tunnel {} to [{}]:{} as {} (password)", c.id(), tr.t.name, peer.address,
                 peer.port, sip::to_string(peer.local_role));
    return;
  }
  request("load-shared", load_psk_message(cfg_.tunnel, tr.t), tr.t.name);
  request("load-conn", load_conn_message(cfg_.tunnel, tr.t), tr.t.name);
  if (peer.local_role == sip::VpnRole::kClient) initiate(tr);
  spdlog::info("sipvpn: call {}: tunnel {} to [{}]:{} as {} ({})", c.id(), tr.t.name, peer.address, peer.port,
               sip::to_string(peer.local_role), sip::to_string(peer.auth));
}

vici::Message SipVpn::initiate_message(Tunnel& t, const std::string& timeout) {
  ++t.attempts;
  vici::Message init;
  init.set("child", t.t.name).set("ike", t.t.name).set("timeout", timeout);
  return init;
}

void SipVpn::initiate(Tunnel& t) {
  // Asynchronous (timeout -1): the outcome comes as ike/child-updown.
  request("initiate", initiate_message(t, "-1"), t.t.name);
}

void SipVpn::initiate_password(const std::string& call) {
  auto it = tunnels_.find(call);
  if (it == tunnels_.end() || !charon_.vici()) return;
  Tunnel& t = it->second;
  const std::string fp = t.t.peer.server_cert ? t.t.peer.server_cert->str() : "";
  auto known = verified_certs_.find(fp);
  t.pinned_try = known != verified_certs_.end();
  if (!t.pinned_try && decoy_ca_.empty()) {
    // Made when a password-mode client first needs it, not at every start.
    if (auto decoy = ephemeral_certificate("mapgw untrusted anchor")) decoy_ca_ = *decoy;
  }
  t.t.pinned_cert = t.pinned_try ? known->second : "";
  t.t.decoy_ca = t.pinned_try ? "" : decoy_ca_;
  request("load-conn", load_conn_message(cfg_.tunnel, t.t), t.t.name);
  // Waiting for the outcome: its answer decides between the pinned try
  // and the certificate check.
  const auto wait = std::to_string(std::chrono::milliseconds(cfg_.ike_timeout).count());
  charon_.vici()->request("initiate", initiate_message(t, wait), [this, call](Result<vici::Message> r) {
    auto it = tunnels_.find(call);
    if (it == tunnels_.end() || it->second.state != State::kConnecting) return;
    if (r && r->yes("success")) return;  // child-updown brings it up
    if (it->second.pinned_try) {
      fail(it->second, "ike_auth_failed");  // the right certificate, yet no tunnel: refused credentials
      return;
    }
    verify_presented_certificate(call);
  });
}

void SipVpn::verify_presented_certificate(const std::string& call) {
  if (!charon_.vici()) return;
  listed_certs_.clear();
  listing_certs_ = true;
  vici::Message q;
  q.set("type", "X509");
  charon_.vici()->request("list-certs", std::move(q), [this, call](Result<vici::Message>) {
    listing_certs_ = false;
    auto it = tunnels_.find(call);
    if (it == tunnels_.end() || it->second.state != State::kConnecting) return;
    Tunnel& t = it->second;
    const std::string want = t.t.peer.server_cert ? t.t.peer.server_cert->str() : "";
    for (const auto& der : listed_certs_) {
      auto fp = certificate_fingerprint(der);
      if (!fp || fp->str() != want) continue;
      // The certificate the SDP named: trusted for this peer alone.
      verified_certs_[want] = der;
      vici::Message cert;
      cert.set("type", "X509").set("flag", "CA").set("data", der);
      request("load-cert", std::move(cert), t.t.name);
      initiate_password(call);
      return;
    }
    fail(t, "certificate_mismatch");  // TS-1017 §4.1.2.5: not the server the SDP named
  });
}

void SipVpn::remove_from_charon(Tunnel& t, bool force) {
  vici::Message term;
  term.set("ike", t.t.name).set("timeout", "-1");
  if (force) term.set("force", "yes");
  request("terminate", std::move(term), t.t.name);
  if (force) unload_from_charon(t);
}

void SipVpn::unload_from_charon(Tunnel& t) {
  if (t.unloaded) return;
  t.unloaded = true;
  request("unload-conn", unload_conn_message(t.t), t.t.name);
  vici::Message shared;
  shared.set("id", t.t.name);
  request("unload-shared", std::move(shared), t.t.name);
}

void SipVpn::call_ended(const sip::Call& c) {
  auto it = tunnels_.find(c.id());
  if (it == tunnels_.end()) return;
  Tunnel& t = it->second;
  // BYE (either way) with SAs still up: removed at once (TS-1017 §4.2).
  if (t.end_reason.empty()) t.end_reason = c.end_reason();
  remove_from_charon(t, true);
  t.state = State::kDown;
  t.deadline.reset();
}

Status SipVpn::disconnect(const std::string& call) {
  auto it = tunnels_.find(call);
  if (it == tunnels_.end() || it->second.state == State::kDown) return ua_.hangup(call, Clock::now());
  Tunnel& t = it->second;
  if (t.state == State::kClosing) return Status::Ok();
  // IKE delete first; the BYE follows its answer or the timeout (§4.2).
  t.state = State::kClosing;
  t.closing_by_us = true;
  t.end_reason = "local_disconnect";
  t.deadline = Clock::now() + cfg_.delete_timeout;
  remove_from_charon(t, false);
  return Status::Ok();
}

void SipVpn::fail(Tunnel& t, const std::string& reason) {
  spdlog::warn("sipvpn: call {}: {}", t.call, reason);
  ++counters_.failures[reason];
  t.end_reason = reason;
  t.deadline.reset();
  (void)ua_.hangup(t.call, Clock::now());  // the BYE; call_ended removes the SAs
}

SipVpn::Tunnel* SipVpn::by_conn(const std::string& name) {
  if (name.rfind("sipvpn-", 0) != 0) return nullptr;
  auto it = tunnels_.find(name.substr(7));
  return it == tunnels_.end() ? nullptr : &it->second;
}

void SipVpn::on_event(const std::string& name, const vici::Message& m) {
  if (name == "list-cert") {
    if (listing_certs_) {
      if (const std::string* data = m.value("data")) listed_certs_.push_back(*data);
    }
    return;
  }
  if (name == "list-sa") {
    on_listed_sa(m);
    return;
  }
  const bool up = m.yes("up");
  for (const auto& e : m.entries()) {
    const vici::Message* sa = e.body.index() == 2 ? std::get<2>(e.body).get() : nullptr;
    if (!sa) continue;
    Tunnel* t = by_conn(e.name);
    if (!t) continue;
    if (name == "ike-updown") {
      t->ike_state = up ? "established" : "down";
      if (const auto* vips = sa->list("local-vips"); vips && !vips->empty()) t->virtual_ips = *vips;
      if (!up && t->state == State::kClosing) {
        // Our delete was answered: now the BYE.
        t->deadline.reset();
        t->state = State::kDown;
        (void)ua_.hangup(t->call, Clock::now());
      } else if (!up && t->state == State::kUp) {
        // The peer deleted the IKE SA: its BYE should follow (TS-1017 §4.2,
        // II.1.3); if none comes in time, the IKE failure ends the call.
        // Its connection goes now: the SA is gone, and a call back that
        // comes before the BYE must find charon free for its own.
        unload_from_charon(*t);
        t->state = State::kClosing;
        t->closing_by_us = false;
        t->deadline = Clock::now() + cfg_.delete_timeout;
      } else if (!up && t->state == State::kConnecting) {
        // A failed attempt. The responder waits: the client may try again
        // (password mode always does, once) until ike_timeout; a
        // password-mode client decides on its initiate's answer.
        const bool responder = t->t.peer.local_role == sip::VpnRole::kServer;
        if (!responder && t->t.peer.auth == sip::IkeAuth::kPsk) {
          // The far side may not have its connection yet (its SIP stack saw
          // the 2xx or ACK a moment after ours): try again shortly, a few
          // times, within ike_timeout.
          if (t->attempts < kMaxInitiations) {
            t->retry_at = Clock::now() + std::chrono::milliseconds(500);
          } else {
            fail(*t, "ike_down");
          }
        }
      }
    } else if (name == "child-updown") {
      const vici::Message* children = sa->sub("child-sas");
      const vici::Message* child = children && !children->entries().empty() && children->entries()[0].body.index() == 2
                                       ? std::get<2>(children->entries()[0].body).get()
                                       : nullptr;
      if (child) {
        t->child_state = child->value_or("state", "");
        t->spi_in = child->value_or("spi-in", "");
        t->spi_out = child->value_or("spi-out", "");
        if (const auto* ts = child->list("remote-ts")) t->remote_ts = *ts;
      }
      if (up && t->state == State::kConnecting) {
        t->state = State::kUp;
        t->up_at = Clock::now();
        t->deadline.reset();
        ++counters_.up;
        spdlog::info("sipvpn: call {}: tunnel up (SPIs {}/{}, virtual IPs [{}], remote networks [{}])", t->call,
                     t->spi_in, t->spi_out, fmt::join(t->virtual_ips, ", "), fmt::join(t->remote_ts, ", "));
      }
    } else if (name == "child-rekey" || name == "ike-rekey") {
      ++(name == "child-rekey" ? counters_.child_rekeys : counters_.ike_rekeys);
      t->last_rekey = name == "child-rekey" ? "child" : "ike";
      t->last_rekey_at = Clock::now();
      if (name == "child-rekey") {
        // The new CHILD_SA counts from zero: bank what the old one carried.
        counters_.bytes_in_closed += t->bytes_in;
        counters_.bytes_out_closed += t->bytes_out;
        t->bytes_in = t->bytes_out = t->packets_in = t->packets_out = 0;
      }
    }
  }
}

void SipVpn::poll_sas() {
  if (polling_sas_ || !charon_.vici()) return;
  polling_sas_ = true;
  vici::Message q;
  q.set("noblock", "yes");
  charon_.vici()->request("list-sas", std::move(q), [this](Result<vici::Message>) { polling_sas_ = false; });
}

void SipVpn::on_listed_sa(const vici::Message& m) {
  auto number = [](const vici::Message& c, const char* key) -> uint64_t {
    const std::string* v = c.value(key);
    return v ? std::strtoull(v->c_str(), nullptr, 10) : 0;
  };
  for (const auto& e : m.entries()) {
    const vici::Message* sa = e.body.index() == 2 ? std::get<2>(e.body).get() : nullptr;
    Tunnel* t = sa ? by_conn(e.name) : nullptr;
    if (!t || t->state == State::kDown) continue;
    const vici::Message* children = sa->sub("child-sas");
    if (!children) continue;
    // During a rekey two CHILD_SAs exist: the installed one counts.
    for (const auto& ce : children->entries()) {
      const vici::Message* child = ce.body.index() == 2 ? std::get<2>(ce.body).get() : nullptr;
      if (!child || child->value_or("state", "") != "INSTALLED") continue;
      t->bytes_in = number(*child, "bytes-in");
      t->bytes_out = number(*child, "bytes-out");
      t->packets_in = number(*child, "packets-in");
      t->packets_out = number(*child, "packets-out");
      t->spi_in = child->value_or("spi-in", t->spi_in);
      t->spi_out = child->value_or("spi-out", t->spi_out);
      break;
    }
  }
}

void SipVpn::on_timer(Clock::time_point now) {
  const bool any_up = std::any_of(tunnels_.begin(), tunnels_.end(),
                                  [](const auto& kv) { return kv.second.state == State::kUp; });
  if (any_up && now >= next_poll_) {
    next_poll_ = now + kPollInterval;
    poll_sas();
  }
  for (auto& [call, t] : tunnels_) {
    if (!t.retry_at || now < *t.retry_at || t.state != State::kConnecting) continue;
    t.retry_at.reset();
    initiate(t);
  }
  std::vector<std::string> due;
  for (auto& [call, t] : tunnels_) {
    if (t.deadline && now >= *t.deadline) due.push_back(call);
  }
  for (const auto& call : due) {
    Tunnel& t = tunnels_[call];
    t.deadline.reset();
    if (t.state == State::kConnecting) {
      fail(t, "ike_timeout");
    } else if (t.state == State::kClosing && t.closing_by_us) {
      // No answer to our delete: BYE anyway, SAs removed at once (§4.2).
      t.state = State::kDown;
      (void)ua_.hangup(call, now);
    } else if (t.state == State::kClosing) {
      fail(t, "ike_down");  // the peer's IKE SA went and no BYE came
    }
  }
  // Ended calls' tunnels are kept for status until the call itself is reaped.
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    if (it->second.state == State::kDown && !ua_.find_call(it->first)) {
      counters_.bytes_in_closed += it->second.bytes_in;
      counters_.bytes_out_closed += it->second.bytes_out;
      it = tunnels_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<SipVpn::Clock::time_point> SipVpn::next_deadline() const {
  std::optional<Clock::time_point> d;
  for (const auto& [call, t] : tunnels_) {
    if (t.state == State::kUp && (!d || next_poll_ < *d)) d = next_poll_;
    if (t.deadline && (!d || *t.deadline < *d)) d = t.deadline;
    if (t.retry_at && (!d || *t.retry_at < *d)) d = t.retry_at;
  }
  return d;
}

}  // namespace mapgw::vpn
