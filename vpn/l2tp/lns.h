// The L2TP network server: every datagram from UDP/1701 goes to its
// control connection (a new one for an SCCRQ; a retransmitted SCCRQ to the
// one it made) or to its session's PPP link; each established session gets
// a PPP stack and, once IPCP is up, an address from the pool; the cascade
// of seed 004 §7 in one place: PPP down → CDN (and StopCCN after the last
// session), tunnel down → its sessions and their PPP. Limits on tunnels,
// sessions and new tunnels per second; every refusal counted. Sockets,
// TUN and IPsec are the owner's: peers are opaque strings here.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpn/l2tp/address_pool.h"
#include "vpn/l2tp/prefix_pool.h"
#include "vpn/l2tp/router_advert.h"
#include "vpn/l2tp/tunnel.h"
#include "vpn/ppp/link.h"

namespace mapgw::l2tp {

// One user logged in twice: refuse the new login, end the old session, or
// let both be.
enum class SingleSession { kOff, kDeny, kReplace };

struct LnsConfig {
  LnsSettings tunnel;
  ppp::LinkSettings link;  // ipcp.local and the DNS; ipcp.peer comes from the pool
  size_t max_tunnels = 256;
  size_t max_sessions = 1024;      // over all tunnels
  double new_tunnels_per_second = 20;
  SingleSession single_session = SingleSession::kReplace;
  // IPv6 inside the sessions (link.ipv6 on): a /64 per session from this
  // prefix, advertised by RA with these DNS servers; "": IPV6CP only.
  std::string prefix6;
  std::vector<Ipv6Address> dns6;
  std::chrono::seconds ra_interval{600};
};

struct LnsCounters {
  uint64_t bad_datagrams = 0, wrong_source = 0, unknown_tunnel = 0, unknown_session = 0, tunnels_refused = 0,
           tunnels_rate_limited = 0, sessions_refused = 0, logins_failed = 0, sessions_up = 0,
           duplicate_logins_refused = 0, sessions_replaced = 0, spoofed = 0;
  uint64_t logins_failed_pap = 0, logins_failed_chap = 0, logins_failed_mschapv2 = 0;
  uint64_t retransmissions_closed = 0, duplicates_closed = 0;  // of tunnels no longer listed
  uint64_t prefixes_exhausted = 0, router_advertisements = 0;
};

// A session whose IPCP is open: what a data path needs to carry its
// packets without the control thread.
struct ClientRoute {
  std::string peer, user;
  uint32_t address = 0;             // what IPCP gave (host order)
  uint16_t tunnel = 0, session = 0;  // ours
  uint16_t peer_tunnel = 0, peer_session = 0;
  uint16_t peer_mru = 1500;
  bool acfc = false, pfc = false;   // what the client agreed to receive
  uint64_t prefix6 = 0;             // the client's /64 once IPV6CP is open (0: none)
};

class Lns {
 public:
  using Clock = Tunnel::Clock;
  struct Hooks {
    std::function<void(const std::string& peer, const std::string& datagram)> send;
    std::function<void(const ClientRoute&)> client_up;  // IPCP open: route it
    std::function<void(const ClientRoute&, const std::string& why)> client_down;
    std::function<void(std::string_view ipv4)> to_tun;
    std::function<void(const std::string& peer, const std::string& why)> tunnel_closed;
    std::function<void(const ClientRoute&)> client_ipv6_up;  // IPV6CP open, its /64 advertised
    std::function<void(const ClientRoute&, const std::string& why)> client_ipv6_down;
  };
  struct SessionInfo {
    std::string peer, user, phase;
    uint16_t tunnel = 0, session = 0;
    uint32_t address = 0;
    uint64_t prefix6 = 0;
    uint64_t bytes_in = 0, bytes_out = 0;
    Clock::time_point started{};
  };

  Lns(LnsConfig c, const ppp::UserDb& users, AddressPool pool, Hooks h);
  ~Lns();

  void receive(const std::string& peer, std::string_view datagram, Clock::time_point now);
  // An IPv4 or IPv6 packet from TUN for one of our clients.
  void from_tun(std::string_view ip, Clock::time_point now);
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;
  // Operator's disconnect: CDN for one session (StopCCN if it was the last).
  bool disconnect(uint16_t tunnel, uint16_t session, Clock::time_point now);
  // One tunnel and its sessions end: StopCCN, and (@at_once: its IPsec SA
  // is gone, no answer can come) closed without waiting for the ack.
  bool close_tunnel(uint16_t tunnel, const std::string& why, Clock::time_point now, bool at_once = false);
  // Bytes a data path carried for a session, counted into its totals.
  void add_bytes(uint16_t tunnel, uint16_t session, uint64_t in, uint64_t out);

  struct TunnelInfo {
    uint16_t id = 0, peer_id = 0;
    std::string peer, peer_host, vendor, state;
    size_t sessions = 0;
    uint64_t retransmissions = 0, duplicates = 0;  // ours sent again; the LAC's received again
  };
  std::vector<TunnelInfo> tunnel_list() const;

  size_t tunnels() const { return tunnels_.size(); }
  std::vector<SessionInfo> sessions() const;
  const LnsCounters& counters() const { return counters_; }

 private:
  struct Session {
    std::string peer;
    uint16_t tunnel = 0, local_id = 0, peer_id = 0;
    std::unique_ptr<ppp::Link> link;
    uint32_t address = 0;
    uint16_t peer_tunnel = 0;
    bool routed = false;
    uint64_t prefix6 = 0;  // routed over IPv6 when non-zero
    std::optional<Clock::time_point> next_ra;
    uint64_t bytes_in = 0, bytes_out = 0;
    Clock::time_point started{};
  };
  struct TunnelEntry {
    std::string peer;
    std::unique_ptr<Tunnel> t;
  };
  using SessionKey = std::pair<uint16_t, uint16_t>;  // our tunnel ID, our session ID

  void on_control(const std::string& peer, std::string_view datagram, Clock::time_point now);
  void on_data(const std::string& peer, const Header& h, std::string_view datagram, Clock::time_point now);
  void new_tunnel(const std::string& peer, const ControlMessage& sccrq, Clock::time_point now);
  void session_up(Tunnel& t, const Tunnel::Session& s, Clock::time_point now);
  void session_gone(SessionKey key, const std::string& why);
  void link_down(SessionKey key, const std::string& why);
  void reap();
  void logged_in(SessionKey key, const std::string& user);
  void ipv6_changed(SessionKey key, bool up);
  void unroute_ipv6(Session& s, const std::string& why);
  void send_ra(Session& s);
  void client_ipv6(SessionKey key, std::string_view p);
  ClientRoute route_of(const Session& s) const;

  LnsConfig c_;
  const ppp::UserDb& users_;
  AddressPool pool_;
  Hooks h_;
  std::map<uint16_t, TunnelEntry> tunnels_;
  std::map<std::pair<std::string, uint16_t>, uint16_t> by_peer_;  // (peer, its tunnel ID) → ours
  std::map<SessionKey, Session> sessions_;
  std::map<uint32_t, SessionKey> by_address_;
  std::optional<PrefixPool> prefixes_;
  std::map<uint64_t, SessionKey> by_prefix6_;
  std::vector<std::unique_ptr<ppp::Link>> graveyard_;  // links ended from inside their own call
  std::vector<uint16_t> maybe_idle_;                     // tunnels whose LAC ended a session
  double tokens_ = 0;
  Clock::time_point tokens_at_{};
  Clock::time_point now_{};
  LnsCounters counters_;
};

}  // namespace mapgw::l2tp
