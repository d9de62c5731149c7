// The L2TP network server as a process runs it: one UDP socket per listen
// address (IPv6 always; IPv4 only where the node owns the address — SPEC.md
// §5), the TUN device, the LNS on the owner's event loop and the data path
// on its own thread. Datagrams the data path hands over reach the LNS;
// what the LNS sends leaves by the socket its peer came in on. Routes,
// addresses and IPsec are the owner's, through the hooks and the admit
// function.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loader/result.h"
#include "vpn/l2tp/data_path.h"
#include "vpn/l2tp/lns.h"
#include "vpn/l2tp/tun_device.h"
#include "vpn/ppp/users.h"

namespace mapgw::l2tp {

struct ServerConfig {
  std::vector<std::string> listen;  // addresses, one socket each
  uint16_t port = 1701;
  std::string tun_name = "l2tp0";
  unsigned tun_mtu = 1400;  // the MRU we ask for: the largest packet a client sends us
  std::string pool4;        // "10.20.0.100-10.20.0.199"
  std::string users_file;
  LnsConfig lns;
  // Clients behind one NAT told apart by their IPsec SA's packet mark
  // (endpoint.h): read each datagram's mark (SO_RCVMARK).
  bool sa_marks = false;
};

// Whether this kernel reports a datagram's mark to the socket (SO_RCVMARK,
// Linux 5.19).
bool kernel_reports_marks();

class Server {
 public:
  using Clock = Lns::Clock;
  struct Hooks {
    std::function<void(const ClientRoute&)> client_up;
    std::function<void(const ClientRoute&, const std::string& why)> client_down;
    std::function<void(const std::string& peer, const std::string& why)> tunnel_closed;
    std::function<void(const ClientRoute&)> client_ipv6_up;
    std::function<void(const ClientRoute&, const std::string& why)> client_ipv6_down;
  };
  struct Counters {
    uint64_t unknown_peer_socket = 0;  // a reply to a peer we never heard from
  };

  static Result<std::unique_ptr<Server>> start(const ServerConfig& c, Hooks h, DataPath::Admit admit);
  ~Server();

  // One descriptor for the owner's loop (its own epoll: timer, data path queue).
  int fd() const { return ep_; }
  void on_event();
  // StopCCN to every tunnel; waits up to @grace for them to be acknowledged.
  void stop(std::chrono::milliseconds grace);

  // The tunnels of an IPsec peer (its host, or host and SA mark:
  // endpoint.h) end: its IPsec SA went away.
  size_t close_ipsec_peer(const std::string& key, const std::string& why);
  bool disconnect(uint16_t tunnel, uint16_t session);

  // Sessions with what the data path carried added in.
  std::vector<Lns::SessionInfo> sessions() const;
  const Lns& lns() const { return *lns_; }
  const DataPath& data() const { return *data_; }
  const TunDevice& tun() const { return *tun_; }
  const ServerConfig& config() const { return c_; }
  const Counters& counters() const { return counters_; }
  std::vector<std::string> bound() const;  // "[2001:db8::1]:1701", …

 private:
  Server(ServerConfig c, Hooks h) : c_(std::move(c)), h_(std::move(h)) {}
  Status open_sockets();
  void send(const std::string& peer, const std::string& datagram);
  void arm_timer();

  ServerConfig c_;
  Hooks h_;
  std::unique_ptr<ppp::FileUserDb> users_;
  std::unique_ptr<TunDevice> tun_;
  std::vector<DataPath::Socket> sockets_;
  std::vector<std::string> bound_;
  std::unique_ptr<DataPath> data_;
  std::unique_ptr<Lns> lns_;
  std::map<std::string, size_t> peer_socket_;  // which socket a peer talks to
  int ep_ = -1, timer_fd_ = -1;
  Counters counters_;
};

}  // namespace mapgw::l2tp
