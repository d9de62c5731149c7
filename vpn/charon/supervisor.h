// charon, supervised (DESIGN.md "VPN"): the daemon starts strongSwan's IKE
// daemon as a child with a strongswan.conf of our own (an explicit plugin
// list, the ESP backend chosen at start, the NAT-T port our SDP announces),
// in a private mount namespace whose /run is our run directory — so its
// pid file and VICI socket are ours and a system strongSwan on the same
// host is not disturbed. It connects the VICI client when charon is ready,
// notices an exit at once (pidfd), restarts with back-off (1 s doubling to
// 30 s; reset after a minute up) and tells its listener when charon goes
// up and down, so calls are torn down instead of left half-open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vpn/charon/esp_backend.h"
#include "vpn/vici/client.h"

namespace mapgw::vpn {

struct CharonSettings {
  std::string run_dir;      // private (0700): strongswan.conf, charon.vici, charon.log
  EspBackend backend = EspBackend::kLibipsec;
  uint16_t ike_port = 0;    // charon's plain IKE port (0: any free one; we use NAT-T only)
  uint16_t nat_port = 4500; // port_nat_t: the port our SDP announces
  int log_level = 1;        // charon's "default" file log level
  std::string charon = "/usr/lib/ipsec/charon";
  std::chrono::milliseconds ready_timeout{10000};  // until its VICI socket answers
  // libipsec tunnels whose remote selector is the IKE peer itself (L2TP's
  // host-to-host fallback): IKE's own packets carry a mark that keeps them
  // out of the route into libipsec's TUN.
  bool tunnel_to_ike_peer = false;
};

// The packet mark that lets IKE traffic bypass charon's routing table.
inline constexpr const char* kIkeBypassMark = "0x4d47";

// The strongswan.conf text for @s (exposed for tests and for the record).
std::string strongswan_conf(const CharonSettings& s);

class CharonSupervisor {
 public:
  struct Listener {
    std::function<void(vici::Client&)> up;            // connected and answering
    std::function<void(const std::string& why)> down;  // exited or unreachable
  };
  static constexpr std::chrono::seconds kBackoffMax{30};

  static Result<std::unique_ptr<CharonSupervisor>> start(CharonSettings s, Listener l);
  ~CharonSupervisor();

  // One descriptor for the daemon's loop (its own epoll: pidfd, timer, VICI).
  int fd() const { return ep_; }
  void on_event();
  // SIGTERM, then SIGKILL after 5 s; no restart.
  void stop();

  bool up() const { return state_ == State::kUp; }
  vici::Client* vici() { return up() ? vici_.get() : nullptr; }
  pid_t pid() const { return pid_; }
  unsigned restarts() const { return restarts_; }
  const std::string& last_exit() const { return last_exit_; }
  const char* state_name() const;
  const CharonSettings& settings() const { return s_; }
  // The DNS servers VPN servers handed to this charon (its resolve plugin).
  std::vector<std::string> received_dns() const;

 private:
  enum class State { kStarting, kUp, kBackoff, kStopped };
  CharonSupervisor(CharonSettings s, Listener l) : s_(std::move(s)), l_(std::move(l)) {}
  Status spawn();
  void reap(const std::string& why);
  void try_connect();
  void arm(std::chrono::milliseconds in);
  void watch(int fd, bool on);

  CharonSettings s_;
  Listener l_;
  State state_ = State::kStarting;
  int ep_ = -1, timer_ = -1, pidfd_ = -1;
  pid_t pid_ = -1;
  std::unique_ptr<vici::Client> vici_;
  std::chrono::steady_clock::time_point spawned_at_{}, up_at_{};
  std::chrono::milliseconds backoff_{0};
  unsigned restarts_ = 0;
  std::string last_exit_;
};

}  // namespace mapgw::vpn
