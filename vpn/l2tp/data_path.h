// The packet-heavy half of the L2TP server, on a thread of its own
// (DESIGN.md "One daemon, several services"): it reads the UDP sockets and
// the TUN device. IPv4 and IPv6 packets of sessions whose IPCP / IPV6CP
// is open go straight between the two — from the peer that owns the
// session, with the source address (or /64) the client was given, no
// larger than the client's MRU — and
// everything else (control messages, LCP and the NCPs, unknown sessions)
// is queued for the control thread, which so never waits behind data and
// data never behind it. Datagrams the IPsec gate does not admit are
// dropped here, before anything parses them further.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loader/result.h"
#include "vpn/l2tp/endpoint.h"
#include "vpn/l2tp/lns.h"
#include "vpn/l2tp/tun_gro.h"
#include "vpn/l2tp/tun_gso.h"

namespace mapgw::l2tp {

class DataPath {
 public:
  struct Socket {
    int fd = -1;
    bool ipv6 = false;
  };
  // For the control thread: one datagram as it arrived.
  struct Inbound {
    std::string peer, datagram;
    size_t socket = 0;
  };
  // Thread-safe: whether a datagram from @peer that arrived on @ifindex
  // passed IPsec (require_ipsec).
  using Admit = std::function<bool(const Endpoint& peer, int ifindex)>;

  struct Counters {
    std::atomic<uint64_t> to_tun_packets{0}, to_tun_bytes{0}, from_tun_packets{0}, from_tun_bytes{0},
        to_control{0}, control_queue_full{0}, not_ipsec{0}, wrong_peer{0}, spoofed{0}, no_session{0},
        exceeds_mru{0}, tun_offload{0}, send_errors{0}, tun_reads{0}, segmented{0};
  };
  struct SessionBytes {
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
  };

  static constexpr size_t kMaxQueued = 8192;

  // Takes no ownership of the descriptors; @tun_fd is a TunDevice's
  // (packets behind a virtio-net header).
  DataPath(std::vector<Socket> sockets, int tun_fd, Admit admit);
  ~DataPath();
  Status start();
  void stop();

  // Readable when datagrams wait for the control thread; take() drains.
  int queue_fd() const { return queue_fd_; }
  std::vector<Inbound> take();

  // A client reached through @socket: its IPv4 address routed (IPCP
  // open) or its /64 (IPV6CP open, r.prefix6), whichever comes first
  // creates the entry.
  void add(const ClientRoute& r, const Endpoint& peer, size_t socket);
  void add_ipv6(const ClientRoute& r, const Endpoint& peer, size_t socket);
  void remove_ipv6(uint16_t tunnel, uint16_t session);
  // Its route removed: what it carried.
  SessionBytes remove(uint16_t tunnel, uint16_t session);
  SessionBytes bytes(uint16_t tunnel, uint16_t session) const;
  size_t routes() const;

  // For the control thread: a datagram to a peer (sendto is thread-safe).
  bool send(size_t socket, const Endpoint& to, std::string_view datagram);

  const Counters& counters() const { return counters_; }
  const TunGro::Counters& tun_writes() const { return gro_.counters(); }
  const std::vector<Socket>& sockets() const { return sockets_; }

 private:
  struct Route {
    ClientRoute r;
    Endpoint peer;
    size_t socket = 0;
    std::atomic<uint64_t> bytes_in{0}, bytes_out{0}, packets_in{0}, packets_out{0};
    std::atomic<uint64_t> prefix6{0};
  };
  static uint32_t key(uint16_t tunnel, uint16_t session) { return uint32_t(tunnel) << 16 | session; }

  static constexpr size_t kBatch = 32;
  struct Batch {
    std::array<mmsghdr, kBatch> msg{};
    std::array<iovec, kBatch> iov{};
    std::array<sockaddr_storage, kBatch> from{};
    alignas(cmsghdr) std::array<std::array<char, 256>, kBatch> ctl{};
    std::array<std::array<char, 65536>, kBatch> buf{};
  };
  // Datagrams for clients: each its L2TP and PPP headers (and a segment's
  // TCP/IP headers) in head, then its data where the TUN read left it.
  struct Outbound {
    static constexpr size_t kHead = 16 + TcpSegments::kMaxHeaders;
    std::array<mmsghdr, kBatch> msg{};
    std::array<std::array<iovec, 2>, kBatch> iov{};
    std::array<sockaddr_storage, kBatch> to{};
    alignas(cmsghdr) std::array<std::array<char, 64>, kBatch> ctl{};
    alignas(8) std::array<std::array<char, kHead>, kBatch> head{};
    std::array<std::array<char, 65536 + 16>, kBatch> read{};  // TUN reads, up to 64 KiB with TSO
  };

  void run();
  void read_socket(size_t i);
  void inbound(size_t socket, mmsghdr& m, char* data);
  void read_tun();
  // A slot for one more datagram to @route, sending what is queued when
  // the batch is full or goes through another socket.
  void make_room(const Route& route, size_t reading);
  // Queues one datagram for @route: @headers (a segment's own, or none) and @data.
  bool queue_out(const std::shared_ptr<Route>& route, unsigned version, std::string_view headers,
                 std::string_view data);
  void flush_out();
  // true: carried; false: for the control thread.
  bool fast_inbound(const Endpoint& from, char* datagram, size_t length);
  void enqueue(Inbound in);
  std::shared_ptr<Route> by_session(uint32_t k) const;
  std::shared_ptr<Route> by_address(uint32_t a) const;
  std::shared_ptr<Route> by_prefix6(uint64_t p) const;
  std::shared_ptr<Route> entry(const ClientRoute& r, const Endpoint& peer, size_t socket);  // under routes_mu_

  std::vector<Socket> sockets_;
  int tun_fd_;
  Admit admit_;
  int ep_ = -1, stop_fd_ = -1, queue_fd_ = -1;
  std::thread thread_;
  std::unique_ptr<Batch> rx_;       // the data thread's, one each way
  std::unique_ptr<Outbound> tx_;
  size_t out_count_ = 0, out_reads_ = 0, out_socket_ = 0;  // what tx_ holds
  TunGro gro_;                      // packets of rx_ for the TUN device
  mutable std::mutex routes_mu_;
  std::unordered_map<uint32_t, std::shared_ptr<Route>> by_session_, by_address_;
  std::unordered_map<uint64_t, std::shared_ptr<Route>> by_prefix6_;
  std::mutex queue_mu_;
  std::deque<Inbound> queue_;
  Counters counters_;
};

}  // namespace mapgw::l2tp
