// The PPP stack of one L2TP session as the server runs it, through RFC
// 1661's phases: LCP (Establish) → the login LCP agreed on (Authenticate)
// → IPCP and, when enabled, IPV6CP (Network) → IP packets to and from the
// owner. It is the cascade's PPP end (seed 004 §7): a failed login, LCP's
// echo loss or Terminate, or the owner's close take the whole link down
// with one reason. Frames come in and go out as L2TP carries them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vpn/ppp/authenticator.h"
#include "vpn/ppp/ncp.h"

namespace mapgw::ppp {

struct LinkSettings {
  LcpSettings lcp;
  AuthSettings auth;
  IpcpSettings ipcp;  // peer = the address the pool gave this session
  bool ipv6 = true;   // run IPV6CP as well
  std::chrono::milliseconds passive_wait{1000};  // for the client's first frame before we ask
};

class Link {
 public:
  using Clock = Fsm::Clock;
  enum class Phase { kDead, kEstablish, kAuthenticate, kNetwork, kTerminate };
  struct Hooks {
    std::function<void(const std::string& frame)> send;
    std::function<void(const std::string& user)> authenticated;
    std::function<void(bool v4, bool v6)> network;  // which NCPs are open now
    std::function<void(uint16_t protocol, std::string_view packet)> packet;  // IPv4 / IPv6 from the client
    std::function<void(const std::string& why)> down;  // the link is gone; the session goes with it
  };

  Link(LinkSettings s, const UserDb& users, Hooks h);

  void start(Clock::time_point now);
  void receive(std::string_view frame, Clock::time_point now);
  // An IP packet to the client (dropped unless its NCP is open).
  void send_packet(uint16_t protocol, std::string_view packet);
  void close(const std::string& why, Clock::time_point now);
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  Phase phase() const { return phase_; }
  static const char* to_string(Phase p);
  const std::string& user() const { return user_; }
  const std::string& why_down() const { return why_; }
  bool ipv4_up() const { return ipcp_.fsm().opened(); }
  bool ipv6_up() const { return ipv6cp_ && ipv6cp_->fsm().opened(); }
  const Lcp& lcp() const { return *lcp_; }
  Ipv6cp::Iid peer_iid() const { return ipv6cp_ ? ipv6cp_->peers() : Ipv6cp::Iid{}; }
  Ipv6cp::Iid our_iid() const { return ipv6cp_ ? ipv6cp_->ours() : Ipv6cp::Iid{}; }
  uint64_t discarded() const { return discarded_; }  // frames of a phase or protocol not open

 private:
  void send_control(uint16_t protocol, const Packet& p);
  void lcp_up(Clock::time_point now);
  void lcp_down(const std::string& why);
  void lcp_finished(const std::string& why);
  void go_active(Clock::time_point now);
  void login_passed(const std::string& user);
  void ncp_changed();

  LinkSettings s_;
  const UserDb& users_;
  Hooks h_;
  std::unique_ptr<Lcp> lcp_;
  std::unique_ptr<Authenticator> auth_;
  Ipcp ipcp_;
  std::unique_ptr<Ipv6cp> ipv6cp_;
  Phase phase_ = Phase::kDead;
  std::string user_, why_;
  Clock::time_point now_{};
  std::optional<Clock::time_point> active_at_;  // passive until the client speaks or this time
  uint64_t discarded_ = 0;
};

}  // namespace mapgw::ppp
