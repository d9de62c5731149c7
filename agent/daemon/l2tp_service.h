// The L2TP/IPsec server (vpn/l2tp) as a daemon service: charon supervised
// with our IKEv1 connection (when IPsec is required), the IPsec gate, the
// server with its sockets, TUN and data path thread; the TUN's address and
// one route per client (with the client's MRU as its MTU, so the kernel
// answers oversized packets with ICMP); the cascade's links between
// IPsec and L2TP; status, disconnect and metrics. A changed [l2tp] on
// reload restarts it (sessions end); an unchanged one keeps everything.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "agent/config/l2tp_section.h"
#include "vpn/charon/supervisor.h"
#include "vpn/l2tp/ipsec_gate.h"
#include "vpn/l2tp/server.h"

namespace mapgw {

class L2tpService {
 public:
  static Result<std::unique_ptr<L2tpService>> start(const L2tpSection& cfg);
  ~L2tpService();

  Status reload(const L2tpSection& cfg);
  void stop();

  int fd() const { return ep_; }
  void on_event();

  nlohmann::json status() const;
  // {"session": "T/S"} or {"user": name} or {"address": a.b.c.d}.
  nlohmann::json disconnect(const nlohmann::json& req);
  // {"gauges": [...], "totals": [...]} in the shape metrics.h documents.
  nlohmann::json metrics() const;

 private:
  L2tpService() = default;
  Status open(const L2tpSection& cfg);
  void close_all();
  void client_up(const l2tp::ClientRoute& r);
  void client_down(const l2tp::ClientRoute& r, const std::string& why);
  void client_ipv6(const l2tp::ClientRoute& r, bool up, const std::string& why);
  void tunnel_closed(const std::string& peer, const std::string& why);
  void ipsec_peer_down(const std::string& key, const std::string& why);

  int ep_ = -1;
  L2tpSection cfg_;
  std::unique_ptr<vpn::CharonSupervisor> charon_;
  std::unique_ptr<l2tp::IpsecGate> gate_;
  std::unique_ptr<l2tp::Server> server_;
  std::string backend_;  // "kernel" / "libipsec" / "" (no IPsec)
  bool sa_marks_ = false;  // transport-mode SAs marked per client (vpn/l2tp/endpoint.h)
  std::chrono::steady_clock::time_point started_{};
  uint64_t route_errors_ = 0, hosts_down_ = 0;
};

}  // namespace mapgw
