#include "vpn/ppp/link.h"

namespace mapgw::ppp {

const char* Link::to_string(Phase p) {
  switch (p) {
    case Phase::kDead: return "dead";
    case Phase::kEstablish: return "lcp";
    case Phase::kAuthenticate: return "authenticating";
    case Phase::kNetwork: return "network";
    case Phase::kTerminate: return "terminating";
  }
  return "?";
}

Link::Link(LinkSettings s, const UserDb& users, Hooks h)
    : s_(std::move(s)), users_(users), h_(std::move(h)),
      ipcp_(s_.ipcp, [this](const Packet& p) { send_control(proto::kIpcp, p); }, [this](bool) { ncp_changed(); }) {
  Lcp::Hooks lh;
  lh.send = [this](const Packet& p) { send_control(proto::kLcp, p); };
  lh.up = [this] { lcp_up(now_); };
  lh.down = [this](const std::string& why) { lcp_down(why); };
  lh.finished = [this](const std::string& why) { lcp_finished(why); };
  lh.protocol_rejected = [this](uint16_t protocol) {
    // A client without IPv6 rejects IPV6CP: IPv4 alone is fine.
    if (protocol == proto::kIpv6cp && ipv6cp_) ipv6cp_->fsm().lower_down();
  };
  lcp_ = std::make_unique<Lcp>(s_.lcp, lh, 0);
  if (s_.ipv6) {
    ipv6cp_ = std::make_unique<Ipv6cp>(
        Ipv6cp::random_iid(), [this](const Packet& p) { send_control(proto::kIpv6cp, p); },
        [this](bool) { ncp_changed(); });
  }
}

void Link::send_control(uint16_t protocol, const Packet& p) {
  h_.send(encode_frame(protocol, encode_packet(p)));
}

// Passive at first, as an LNS's pppd is: an LAC starts its PPP after the
// call is up, so a request sent at once is often lost and waits out a
// restart timer (3 s). The client's first frame, or passive_wait without
// one, starts the negotiation.
void Link::start(Clock::time_point now) {
  now_ = now;
  phase_ = Phase::kEstablish;
  lcp_->heard(now);
  lcp_->fsm().open(now);
  active_at_ = now + s_.passive_wait;
}

void Link::go_active(Clock::time_point now) {
  if (!active_at_) return;
  active_at_.reset();
  lcp_->fsm().lower_up(now);
}

void Link::lcp_up(Clock::time_point now) {
  phase_ = Phase::kAuthenticate;
  Authenticator::Hooks ah;
  ah.send = [this](uint16_t protocol, const Packet& p) { send_control(protocol, p); };
  ah.success = [this](const std::string& user) { login_passed(user); };
  ah.failure = [this](const std::string& user, const std::string& why) {
    user_ = user;
    close("login failed: " + why, now_);
  };
  auth_ = std::make_unique<Authenticator>(lcp_->auth(), users_, s_.auth, ah);
  auth_->start(now);
}

void Link::login_passed(const std::string& user) {
  user_ = user;
  phase_ = Phase::kNetwork;
  if (h_.authenticated) h_.authenticated(user);
  if (phase_ != Phase::kNetwork) return;  // the owner refused the login (a second one of this user)
  ipcp_.fsm().open(now_);
  ipcp_.fsm().lower_up(now_);
  if (ipv6cp_) {
    ipv6cp_->fsm().open(now_);
    ipv6cp_->fsm().lower_up(now_);
  }
}

void Link::ncp_changed() {
  if (h_.network) h_.network(ipv4_up(), ipv6_up());
}

// LCP left Opened: no more data or NCPs, but the Terminate exchange (or
// its timeout) still has to run before the session may go (RFC 1661 §3.7).
void Link::lcp_down(const std::string& why) {
  if (phase_ == Phase::kDead) return;
  ipcp_.fsm().lower_down();
  if (ipv6cp_) ipv6cp_->fsm().lower_down();
  auth_.reset();
  phase_ = Phase::kTerminate;
  if (why_.empty()) why_ = why;
}

void Link::lcp_finished(const std::string& why) {
  if (phase_ == Phase::kDead) return;
  if (phase_ != Phase::kTerminate) lcp_down(why);
  phase_ = Phase::kDead;
  if (why_.empty()) why_ = why;
  if (h_.down) h_.down(why_);
}

void Link::close(const std::string& why, Clock::time_point now) {
  now_ = now;
  if (phase_ == Phase::kDead || phase_ == Phase::kTerminate) return;
  why_ = why;
  phase_ = Phase::kTerminate;
  ipcp_.fsm().close(why, now);
  if (ipv6cp_) ipv6cp_->fsm().close(why, now);
  lcp_->fsm().close(why, now);  // Terminate-Request; finished → lcp_down
}

void Link::receive(std::string_view frame, Clock::time_point now) {
  now_ = now;
  auto f = parse_frame(frame);
  if (!f) {
    ++discarded_;
    return;
  }
  lcp_->heard(now);
  go_active(now);
  if (f->protocol == proto::kLcp) return lcp_->fsm().receive(f->info, now);
  // RFC 1661 §3: nothing but LCP before LCP is open; nothing but the login
  // until it passed.
  const bool lcp_open = lcp_->fsm().opened();
  if (f->protocol == proto::kPap || f->protocol == proto::kChap) {
    if (auth_ && phase_ == Phase::kAuthenticate) {
      auth_->receive(f->protocol, f->info, now);
    } else {
      ++discarded_;
    }
    return;
  }
  if (phase_ != Phase::kNetwork) {
    ++discarded_;
    return;
  }
  switch (f->protocol) {
    case proto::kIpcp: return ipcp_.fsm().receive(f->info, now);
    case proto::kIpv6cp:
      if (ipv6cp_) return ipv6cp_->fsm().receive(f->info, now);
      break;
    case proto::kIpv4:
      if (ipcp_.fsm().opened()) {
        if (h_.packet) h_.packet(f->protocol, f->info);
        return;
      }
      ++discarded_;
      return;
    case proto::kIpv6:
      if (ipv6_up()) {
        if (h_.packet) h_.packet(f->protocol, f->info);
        return;
      }
      ++discarded_;
      return;
    default:
      break;
  }
  if (!lcp_open) {
    ++discarded_;
    return;
  }
  // A protocol we do not run (or IPV6CP when disabled): Protocol-Reject (§5.7).
  Packet rej;
  rej.code = code::kProtocolReject;
  rej.id = lcp_->fsm().next_id();
  const std::string rest(f->info.substr(0, 1400));
  rej.data = std::string{static_cast<char>(f->protocol >> 8), static_cast<char>(f->protocol & 0xff)} + rest;
  send_control(proto::kLcp, rej);
}

void Link::send_packet(uint16_t protocol, std::string_view packet) {
  const bool open = protocol == proto::kIpv4 ? ipv4_up() : protocol == proto::kIpv6 && ipv6_up();
  if (!open) {
    ++discarded_;
    return;
  }
  h_.send(encode_frame(protocol, packet, lcp_->peer_acfc(), lcp_->peer_pfc()));
}

void Link::on_timer(Clock::time_point now) {
  now_ = now;
  if (active_at_ && now >= *active_at_) go_active(now);
  lcp_->on_timer(now);
  if (auth_) auth_->on_timer(now);
  ipcp_.fsm().on_timer(now);
  if (ipv6cp_) ipv6cp_->fsm().on_timer(now);
}

std::optional<Link::Clock::time_point> Link::next_deadline() const {
  std::optional<Clock::time_point> d = lcp_->next_deadline();
  if (active_at_ && (!d || *active_at_ < *d)) d = active_at_;
  auto take = [&](std::optional<Clock::time_point> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  if (auth_) take(auth_->next_deadline());
  take(ipcp_.fsm().next_deadline());
  if (ipv6cp_) take(ipv6cp_->fsm().next_deadline());
  return d;
}

}  // namespace mapgw::ppp
