#include "vpn/l2tp/lns.h"

#include <algorithm>
#include <utility>

#include "vpn/l2tp/codes.h"

namespace mapgw::l2tp {
namespace {

// 0 for a packet too short to be IPv4: matches no client.
uint32_t ipv4_source(std::string_view p) { return p.size() < 20 ? 0 : bytes::rd32(p, 12); }
uint32_t ipv4_destination(std::string_view p) { return p.size() < 20 ? 0 : bytes::rd32(p, 16); }

}  // namespace

Lns::Lns(LnsConfig c, const ppp::UserDb& users, AddressPool pool, Hooks h)
    : c_(std::move(c)), users_(users), pool_(std::move(pool)), h_(std::move(h)),
      tokens_(std::max(1.0, c_.new_tunnels_per_second)) {
  if (!c_.prefix6.empty() && c_.link.ipv6) {
    auto p = PrefixPool::parse(c_.prefix6);
    if (p) prefixes_ = std::move(*p);  // the configuration checked it; a bad one means no IPv6 routing
  }
}

Lns::~Lns() = default;

void Lns::receive(const std::string& peer, std::string_view datagram, Clock::time_point now) {
  now_ = now;
  auto h = parse_header(datagram);
  if (!h) {
    ++counters_.bad_datagrams;
    return;
  }
  if (h->control) {
    on_control(peer, datagram, now);
  } else {
    on_data(peer, *h, datagram, now);
  }
  reap();
}

void Lns::on_control(const std::string& peer, std::string_view datagram, Clock::time_point now) {
  auto m = parse_control(datagram, c_.tunnel.secret);
  if (!m) {
    ++counters_.bad_datagrams;
    return;
  }
  if (m->tunnel == 0) {
    if (m->type() != static_cast<uint16_t>(MessageType::kSccrq)) {
      ++counters_.unknown_tunnel;
      return;
    }
    const Avp* id = m->find(avp::kAssignedTunnelId);
    const uint16_t theirs = id ? id->u16().value_or(0) : 0;
    if (auto it = by_peer_.find({peer, theirs}); it != by_peer_.end()) {
      tunnels_.at(it->second).t->receive(*m, now);  // a retransmitted SCCRQ: acknowledged again
      return;
    }
    return new_tunnel(peer, *m, now);
  }
  auto it = tunnels_.find(m->tunnel);
  if (it == tunnels_.end()) {
    ++counters_.unknown_tunnel;
    return;
  }
  if (it->second.peer != peer) {
    ++counters_.wrong_source;  // another host speaking for this tunnel
    return;
  }
  it->second.t->receive(*m, now);
}

void Lns::new_tunnel(const std::string& peer, const ControlMessage& sccrq, Clock::time_point now) {
  // A bucket of new-tunnel tokens refilled at new_tunnels_per_second.
  const double cap = std::max(1.0, c_.new_tunnels_per_second);
  tokens_ = std::min(cap, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * c_.new_tunnels_per_second);
  tokens_at_ = now;
  if (tunnels_.size() >= c_.max_tunnels) {
    ++counters_.tunnels_refused;  // silently: a flood gets no answers to amplify
    return;
  }
  if (tokens_ < 1) {
    ++counters_.tunnels_rate_limited;
    return;
  }
  tokens_ -= 1;
  const uint16_t ours = unused_random_id(tunnels_);
  Tunnel::Hooks th;
  th.send = [this, peer](const std::string& d) { h_.send(peer, d); };
  th.session_up = [this](Tunnel& t, const Tunnel::Session& s) { session_up(t, s, now_); };
  th.session_down = [this](Tunnel& t, const Tunnel::Session& s, const std::string& why) {
    session_gone({t.local_id(), s.local_id}, why);
    maybe_idle_.push_back(t.local_id());  // the LAC's CDN for its last session: checked in reap()
  };
  th.closed = [this, peer](Tunnel& t, const std::string& why) {
    by_peer_.erase({peer, t.peer_id()});
    if (h_.tunnel_closed) h_.tunnel_closed(peer, why);
  };
  TunnelEntry e;
  e.peer = peer;
  e.t = std::make_unique<Tunnel>(c_.tunnel, ours, th);
  Tunnel& t = *e.t;
  tunnels_.emplace(ours, std::move(e));
  t.start(sccrq, now);
  if (t.state() != Tunnel::State::kClosed) by_peer_[{peer, t.peer_id()}] = ours;
}

void Lns::session_up(Tunnel& t, const Tunnel::Session& s, Clock::time_point now) {
  const SessionKey key{t.local_id(), s.local_id};
  if (sessions_.size() >= c_.max_sessions) {
    ++counters_.sessions_refused;
    return t.disconnect(s.local_id, cdn::kNoResourcesNow, "session limit of the server", now);
  }
  auto address = pool_.take();
  if (!address) {
    ++counters_.sessions_refused;
    return t.disconnect(s.local_id, cdn::kNoResourcesNow, "address pool exhausted", now);
  }
  Session& ses = sessions_[key];
  ses.peer = tunnels_.at(t.local_id()).peer;
  ses.tunnel = t.local_id();
  ses.local_id = s.local_id;
  ses.peer_id = s.peer_id;
  ses.peer_tunnel = t.peer_id();
  ses.address = *address;
  ses.started = now;
  ppp::LinkSettings ls = c_.link;
  ls.ipcp.peer = *address;
  ppp::Link::Hooks lh;
  const uint16_t peer_tunnel = t.peer_id();
  lh.send = [this, key, peer_tunnel](const std::string& frame) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    it->second.bytes_out += frame.size();
    h_.send(it->second.peer, encode_data(peer_tunnel, it->second.peer_id, frame));
  };
  lh.network = [this, key](bool v4, bool v6) {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    Session& x = it->second;
    if (v6 != (x.prefix6 != 0)) ipv6_changed(key, v6);
    if (v4 && !x.routed) {
      x.routed = true;
      ++counters_.sessions_up;
      by_address_[x.address] = key;
      if (h_.client_up) h_.client_up(route_of(x));
    } else if (!v4 && x.routed) {
      x.routed = false;
      by_address_.erase(x.address);
      if (h_.client_down) h_.client_down(route_of(x), "IPCP down");
    }
  };
  lh.authenticated = [this, key](const std::string& user) { logged_in(key, user); };
  lh.packet = [this, key](uint16_t protocol, std::string_view p) {
    auto it = sessions_.find(key);
    // Only the address we gave: a client cannot send as another (the
    // kernel's rp_filter would not let it either).
    if (it != sessions_.end() && protocol == ppp::proto::kIpv6) return client_ipv6(key, p);
    if (it == sessions_.end() || protocol != ppp::proto::kIpv4) {
      ++counters_.bad_datagrams;
      return;
    }
    if (ipv4_source(p) != it->second.address) {
      ++counters_.spoofed;
      return;
    }
    if (h_.to_tun) h_.to_tun(p);
  };
  lh.down = [this, key](const std::string& why) { link_down(key, why); };
  ses.link = std::make_unique<ppp::Link>(ls, users_, lh);
  ses.link->start(now);
}

void Lns::session_gone(SessionKey key, const std::string& why) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  if (s.prefix6) unroute_ipv6(s, why);
  if (s.routed) {
    by_address_.erase(s.address);
    if (h_.client_down) h_.client_down(route_of(s), why);
  }
  pool_.give_back(s.address);
  // The link may be the caller (its own down hook led here): freed later.
  graveyard_.push_back(std::move(s.link));
  sessions_.erase(it);
}

void Lns::link_down(SessionKey key, const std::string& why) {
  if (why.rfind("login failed", 0) == 0) {
    ++counters_.logins_failed;
    auto s = sessions_.find(key);
    if (s != sessions_.end() && s->second.link) {
      switch (s->second.link->lcp().auth()) {
        case ppp::AuthMethod::kPap: ++counters_.logins_failed_pap; break;
        case ppp::AuthMethod::kChapMd5: ++counters_.logins_failed_chap; break;
        case ppp::AuthMethod::kMsChapV2: ++counters_.logins_failed_mschapv2; break;
      }
    }
  }
  auto t = tunnels_.find(key.first);
  if (t == tunnels_.end()) return session_gone(key, why);
  // PPP ended: CDN; the tunnel too when it carried nothing else (004 §7).
  t->second.t->disconnect(key.second, cdn::kAdministrative, "PPP: " + why, now_);
  session_gone(key, why);
  if (t->second.t->sessions().empty() && t->second.t->state() == Tunnel::State::kEstablished) {
    t->second.t->stop(stopccn::kClear, error::kNone, "its last session ended", now_);
  }
}

bool Lns::disconnect(uint16_t tunnel, uint16_t session, Clock::time_point now) {
  now_ = now;
  auto it = sessions_.find({tunnel, session});
  if (it == sessions_.end()) return false;
  it->second.link->close("disconnected by the operator", now);
  reap();
  return true;
}

// IPV6CP opened or closed: the session's /64, advertised and routed.
void Lns::ipv6_changed(SessionKey key, bool up) {
  Session& s = sessions_.at(key);
  if (!up) return unroute_ipv6(s, "IPV6CP down");
  if (!prefixes_) return;  // IPV6CP alone: link-local only
  auto p = prefixes_->take();
  if (!p) {
    ++counters_.prefixes_exhausted;
    return;
  }
  s.prefix6 = *p;
  by_prefix6_[*p] = key;
  send_ra(s);
  if (h_.client_ipv6_up) h_.client_ipv6_up(route_of(s));
}

void Lns::unroute_ipv6(Session& s, const std::string& why) {
  if (!s.prefix6) return;
  if (h_.client_ipv6_down) h_.client_ipv6_down(route_of(s), why);
  by_prefix6_.erase(s.prefix6);
  if (prefixes_) prefixes_->give_back(s.prefix6);
  s.prefix6 = 0;
  s.next_ra.reset();
}

void Lns::send_ra(Session& s) {
  if (!s.link || !s.prefix6) return;
  RouterAdvertSettings ra;
  ra.our_iid = s.link->our_iid();
  ra.prefix = s.prefix6;
  ra.mtu = c_.link.lcp.mru;  // what we take from the client
  ra.dns = c_.dns6;
  ra.router_lifetime = static_cast<uint16_t>(std::min<int64_t>(3 * c_.ra_interval.count(), 9000));
  s.link->send_packet(ppp::proto::kIpv6, router_advertisement(ra));
  ++counters_.router_advertisements;
  s.next_ra = now_ + c_.ra_interval;
}

// IPv6 from a client: a Router Solicitation is answered; its own /64 goes
// on; link-local traffic (neighbour discovery, MLD) stays on the link; any
// other source is spoofed.
void Lns::client_ipv6(SessionKey key, std::string_view p) {
  Session& s = sessions_.at(key);
  if (is_router_solicitation(p)) return send_ra(s);
  if (p.size() < 40) {
    ++counters_.bad_datagrams;
    return;
  }
  const uint64_t src_upper = uint64_t{bytes::rd32(p, 8)} << 32 | bytes::rd32(p, 12);
  if (s.prefix6 && src_upper == s.prefix6) {
    if (h_.to_tun) h_.to_tun(p);
    return;
  }
  if ((src_upper >> 54) == (0xfe80u >> 6)) return;  // fe80::/10: the link's own business
  ++counters_.spoofed;
}

// A second login of one user: seed 004 has one session per user; which
// one survives is the operator's choice.
void Lns::logged_in(SessionKey key, const std::string& user) {
  if (c_.single_session == SingleSession::kOff) return;
  for (auto& [k, other] : sessions_) {
    if (k == key || !other.link || other.link->user() != user) continue;
    if (other.link->phase() != ppp::Link::Phase::kNetwork && other.link->phase() != ppp::Link::Phase::kAuthenticate) continue;
    if (c_.single_session == SingleSession::kDeny) {
      ++counters_.duplicate_logins_refused;
      auto self = sessions_.find(key);
      if (self != sessions_.end()) self->second.link->close("user already connected", now_);
      return;
    }
    ++counters_.sessions_replaced;
    other.link->close("replaced by a new login of the same user", now_);
    return;
  }
}

ClientRoute Lns::route_of(const Session& s) const {
  ClientRoute r;
  r.peer = s.peer;
  r.address = s.address;
  r.tunnel = s.tunnel;
  r.session = s.local_id;
  r.peer_tunnel = s.peer_tunnel;
  r.peer_session = s.peer_id;
  r.prefix6 = s.prefix6;
  if (s.link) {
    r.user = s.link->user();
    r.peer_mru = s.link->lcp().peer_mru();
    r.acfc = s.link->lcp().peer_acfc();
    r.pfc = s.link->lcp().peer_pfc();
  }
  return r;
}

bool Lns::close_tunnel(uint16_t tunnel, const std::string& why, Clock::time_point now, bool at_once) {
  now_ = now;
  auto it = tunnels_.find(tunnel);
  if (it == tunnels_.end() || it->second.t->state() == Tunnel::State::kClosed) return false;
  if (at_once) {
    it->second.t->stop_now(stopccn::kGeneralError, why, now);
  } else {
    it->second.t->stop(stopccn::kGeneralError, error::kNone, why, now);
  }
  reap();
  return true;
}

void Lns::add_bytes(uint16_t tunnel, uint16_t session, uint64_t in, uint64_t out) {
  auto it = sessions_.find({tunnel, session});
  if (it == sessions_.end()) return;
  it->second.bytes_in += in;
  it->second.bytes_out += out;
}

std::vector<Lns::TunnelInfo> Lns::tunnel_list() const {
  std::vector<TunnelInfo> out;
  for (const auto& [id, e] : tunnels_) {
    TunnelInfo i;
    i.id = id;
    i.peer_id = e.t->peer_id();
    i.peer = e.peer;
    i.peer_host = e.t->peer_host();
    i.vendor = e.t->peer_vendor();
    switch (e.t->state()) {
      case Tunnel::State::kWaitScccn: i.state = "starting"; break;
      case Tunnel::State::kEstablished: i.state = "established"; break;
      case Tunnel::State::kStopping: i.state = "stopping"; break;
      case Tunnel::State::kClosed: i.state = "closed"; break;
    }
    i.sessions = e.t->sessions().size();
    i.retransmissions = e.t->channel().counters().retransmitted;
    i.duplicates = e.t->channel().counters().duplicates;
    out.push_back(i);
  }
  return out;
}

void Lns::on_data(const std::string& peer, const Header& h, std::string_view datagram, Clock::time_point now) {
  auto it = sessions_.find({h.tunnel, h.session});
  if (it == sessions_.end() || !it->second.link) {
    ++counters_.unknown_session;
    return;
  }
  if (it->second.peer != peer) {
    ++counters_.wrong_source;
    return;
  }
  const size_t end = h.has_length ? h.length : datagram.size();
  const std::string_view frame = datagram.substr(h.payload_at, end - h.payload_at);
  it->second.bytes_in += frame.size();
  it->second.link->receive(frame, now);
}

void Lns::from_tun(std::string_view ip, Clock::time_point now) {
  now_ = now;
  if (ip.size() >= 40 && (static_cast<uint8_t>(ip[0]) >> 4) == 6) {
    auto it = by_prefix6_.find(uint64_t{bytes::rd32(ip, 24)} << 32 | bytes::rd32(ip, 28));
    if (it == by_prefix6_.end()) return;
    auto s = sessions_.find(it->second);
    if (s != sessions_.end() && s->second.link) s->second.link->send_packet(ppp::proto::kIpv6, ip);
    return;
  }
  auto it = by_address_.find(ipv4_destination(ip));
  if (it == by_address_.end()) return;
  auto s = sessions_.find(it->second);
  if (s != sessions_.end() && s->second.link) s->second.link->send_packet(ppp::proto::kIpv4, ip);
}

void Lns::on_timer(Clock::time_point now) {
  now_ = now;
  for (auto& [id, e] : tunnels_) e.t->on_timer(now);
  std::vector<SessionKey> keys;
  for (const auto& [k, s] : sessions_) keys.push_back(k);
  for (const auto& k : keys) {
    auto it = sessions_.find(k);
    if (it != sessions_.end() && it->second.link) it->second.link->on_timer(now);
    it = sessions_.find(k);
    if (it != sessions_.end() && it->second.next_ra && now >= *it->second.next_ra) send_ra(it->second);
  }
  reap();
}

void Lns::reap() {
  graveyard_.clear();
  // A remote-access tunnel carries one user's session: once its last
  // session is gone, the tunnel (and, through the owner, its IPsec SA) goes
  // too (seed 004 §7) instead of idling until the LAC remembers it.
  for (uint16_t id : std::exchange(maybe_idle_, {})) {
    auto it = tunnels_.find(id);
    if (it != tunnels_.end() && it->second.t->sessions().empty() &&
        it->second.t->state() == Tunnel::State::kEstablished) {
      it->second.t->stop(stopccn::kClear, error::kNone, "its last session ended", now_);
    }
  }
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    if (it->second.t->finished()) {
      counters_.retransmissions_closed += it->second.t->channel().counters().retransmitted;
      counters_.duplicates_closed += it->second.t->channel().counters().duplicates;
      it = tunnels_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Lns::Clock::time_point> Lns::next_deadline() const {
  std::optional<Clock::time_point> d;
  auto take = [&](std::optional<Clock::time_point> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  for (const auto& [id, e] : tunnels_) take(e.t->next_deadline());
  for (const auto& [k, s] : sessions_) {
    if (s.link) take(s.link->next_deadline());
    take(s.next_ra);
  }
  return d;
}

std::vector<Lns::SessionInfo> Lns::sessions() const {
  std::vector<SessionInfo> out;
  for (const auto& [k, s] : sessions_) {
    SessionInfo i;
    i.peer = s.peer;
    i.tunnel = k.first;
    i.session = k.second;
    i.address = s.address;
    i.prefix6 = s.prefix6;
    i.bytes_in = s.bytes_in;
    i.bytes_out = s.bytes_out;
    i.started = s.started;
    if (s.link) {
      i.user = s.link->user();
      i.phase = ppp::Link::to_string(s.link->phase());
    }
    out.push_back(i);
  }
  return out;
}

}  // namespace mapgw::l2tp
