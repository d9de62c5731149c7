// L2TP only through IPsec (require_ipsec): the gate learns from charon's
// ike-updown / child-updown events which IPsec peers have a CHILD_SA of
// our connections up — a host, or with per-SA marks a host and the SA's
// mark (endpoint.h: clients behind one NAT) — and the data path admits
// L2TP datagrams from those alone. With kernel ESP (transport mode) that
// is enough: only the SA sets its mark on a packet (nobody outside can),
// and without marks the SA's inbound policy makes the kernel drop
// plaintext from such a host, so what reaches the socket from it was
// decrypted. With charon's libipsec (tunnel mode,
// no kernel policy) the datagram must also have arrived on libipsec's TUN
// device ("ipsec*"): a plaintext copy from the same address would not.
// The cascade's IPsec end (seed 004 §7): a peer losing its last SA is
// reported (its L2TP tunnels end); the owner asks the gate to delete a
// peer's IKE SA when its last L2TP tunnel ended.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "vpn/l2tp/endpoint.h"
#include "vpn/l2tp/ipsec_config.h"
#include "vpn/vici/client.h"

namespace mapgw::l2tp {

class IpsecGate {
 public:
  using Clock = std::chrono::steady_clock;
  struct Sa {
    std::string id, host, remote_id, state;
    std::string auth;  // "psk" or "certificate"
    uint16_t port = 0;
    std::map<std::string, uint32_t> children;  // CHILD_SAs installed: unique ID → inbound mark
    Clock::time_point since{};
  };
  struct Counters {
    uint64_t ike_up = 0, ike_down = 0, child_up = 0, child_down = 0, deleted_by_us = 0;
  };
  // An IPsec peer (endpoint.h: host, or host#mark) lost its last SA.
  using HostDown = std::function<void(const std::string& key, const std::string& why)>;

  IpsecGate(IpsecSettings s, bool libipsec, HostDown down);

  // charon answers: our connection and secret loaded, events subscribed,
  // SAs that survived in it listed.
  void charon_up(vici::Client& c);
  // The PSK, certificates, CAs or CRL changed (nothing else): charon gets
  // the new ones; SAs up stay, new ones use them.
  void reload_credentials(const IpsecSettings& s);
  // charon is gone, and every SA with it.
  void charon_down(const std::string& why);

  // Thread-safe (the data path calls it for every datagram).
  bool admits(const Endpoint& peer, int ifindex) const;
  // The last L2TP tunnel of an IPsec peer ended: its IKE SA goes too
  // (only that client's, when several share a NAT address).
  void end_peer(const std::string& key);
  // The IPsec keys with a CHILD_SA up.
  std::set<std::string> protected_keys() const;

  std::vector<Sa> sas() const;
  // charon's ike-updown, child-updown and list-sa events (public for tests).
  void on_event(const std::string& name, const vici::Message& m);
  const Counters& counters() const { return counters_; }
  bool loaded() const { return loaded_; }

 private:
  void load();  // credentials and connections into charon
  void request(const std::string& cmd, vici::Message args);
  void changed(const std::string& key, const std::string& why);
  void recount();  // protected_ and keys_ from sas_; callers hold mu_

  IpsecSettings s_;
  bool libipsec_;
  HostDown down_;
  vici::Client* vici_ = nullptr;
  bool loaded_ = false;
  mutable std::mutex mu_;
  std::map<std::string, Sa> sas_;  // by IKE_SA unique ID
  // The IPsec keys with a CHILD_SA up, as bytes (what admits() looks up
  // for every datagram: no formatting, no walk over the SAs) and as text.
  std::unordered_set<std::string> protected_;
  std::set<std::string> keys_;
  mutable std::unordered_map<int, bool> ipsec_ifindex_;  // ifindex → is a libipsec TUN
  Counters counters_;
};

}  // namespace mapgw::l2tp
