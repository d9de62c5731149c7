// The SIP-VPN endpoint (TTC TS-1017): every call the user agent settles
// becomes an IPsec tunnel in the supervised charon, and every tunnel lives
// and dies with its call.
//   - established call → load-shared (PSK) + load-conn; a client initiates
//     (IKE initiator, TS-1017 §3.1), a server waits for it; a tunnel not up
//     within ike_timeout ends the call (IKE failure → BYE, §4.2);
//   - local disconnect → IKE delete first, then BYE once the delete is
//     answered or after delete_timeout (§4.2);
//   - BYE received (call ended) → the SAs are removed at once (§4.2);
//   - IKE SA gone on its own (DPD, peer delete) → BYE;
//   - charon gone → every call ends ("charon_down"), counted; when charon is
//     back, new calls work.
// Only calls that passed screen_incoming (the permitted peers) get here.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sip/user_agent.h"
#include "vpn/charon/supervisor.h"
#include "vpn/sipvpn/tunnel_config.h"

namespace mapgw::vpn {

struct SipVpnConfig {
  SipVpnSettings tunnel;
  std::string psk;                        // PSK mode's key ([sip.ike] psk)
  std::set<std::string> permitted_peers;  // IKE identities (user@host) allowed to call; empty: any
  std::chrono::seconds ike_timeout{30};   // call established → tunnel up
  std::chrono::seconds delete_timeout{5}; // IKE delete → BYE anyway
  // Password mode (TS-1017 §3.4.1): the server's users and certificate,
  // the client's own credentials.
  std::map<std::string, std::string> eap_users;
  std::string cert_pem, key_pem;
  std::string eap_user, eap_password;
};

struct TunnelCounters {
  uint64_t up = 0;
  std::map<std::string, uint64_t> failures;  // by reason: ike_timeout, ike_down, charon_down, ...
  uint64_t child_rekeys = 0, ike_rekeys = 0;
  uint64_t refused_peers = 0;
  uint64_t refused_duplicates = 0;  // a call from a peer whose tunnel is up (486)
  // Traffic of tunnels already gone (the live ones' add to it in status).
  uint64_t bytes_in_closed = 0, bytes_out_closed = 0;
};

class SipVpn : public sip::CallObserver {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxInitiations = 5;
  static constexpr std::chrono::seconds kPollInterval{2};
  enum class State { kLoading, kConnecting, kUp, kClosing, kDown };

  struct Tunnel {
    CallTunnel t;
    std::string call;  // the user agent's call id
    State state = State::kLoading;
    Clock::time_point started{}, up_at{};
    std::optional<Clock::time_point> deadline;
    std::string ike_state, child_state, spi_in, spi_out;
    std::vector<std::string> virtual_ips;  // what the server assigned us (client)
    std::vector<std::string> remote_ts;    // the far side's networks the CHILD_SA covers
    // From charon's list-sas, polled every kPollInterval while up: what the
    // current CHILD_SA carried (a rekey starts its counts again).
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    std::string last_rekey;                // "child" or "ike"
    std::optional<Clock::time_point> last_rekey_at;
    std::string end_reason;
    bool closing_by_us = false;
    // The connection and its key are out of charon (the peer deleted the
    // IKE SA, or the call ended): no longer in the way of a new call.
    bool unloaded = false;
    bool pinned_try = false;
    int attempts = 0;                                  // IKE initiations (client)
    std::optional<Clock::time_point> retry_at;         // the next one
  };

  SipVpn(SipVpnConfig cfg, sip::UserAgent& ua, CharonSupervisor& charon);
  ~SipVpn() override;

  // charon is up (again): events subscribed, pools loaded.
  void charon_up(vici::Client& c);
  void charon_down(const std::string& why);

  // The operator or the SIP layer wants a call (and its tunnel) gone, in
  // TS-1017's order.
  Status disconnect(const std::string& call);

  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  const std::map<std::string, Tunnel>& tunnels() const { return tunnels_; }
  const TunnelCounters& counters() const { return counters_; }
  static const char* to_string(State s);

  // sip::CallObserver
  int screen_incoming(const sip::Call& c) override;
  // An incoming call's connection is loaded before its 2xx goes: the
  // client initiates IKE on that 2xx, and may beat our ACK to charon.
  void call_answering(const sip::Call& c) override;
  void call_established(const sip::Call& c) override;
  void call_ended(const sip::Call& c) override;

 private:
  void start_tunnel(const sip::Call& c);
  void on_event(const std::string& name, const vici::Message& m);
  void fail(Tunnel& t, const std::string& reason);
  void remove_from_charon(Tunnel& t, bool force);
  void unload_from_charon(Tunnel& t);
  Tunnel* by_conn(const std::string& name);
  const Tunnel* live_tunnel_to(const std::string& address, const std::string& remote_id,
                               const std::string& except_call) const;
  void request(const std::string& cmd, vici::Message args, const std::string& what);
  // Password mode, client: initiate; on failure, find the certificate the
  // server presented, check it against the SDP's fingerprint, pin it, and
  // initiate again (DESIGN.md "Client-side fingerprint check", way (a)).
  void initiate_password(const std::string& call);
  vici::Message initiate_message(Tunnel& t, const std::string& timeout);
  void initiate(Tunnel& t);
  void verify_presented_certificate(const std::string& call);
  void poll_sas();
  void on_listed_sa(const vici::Message& m);

  SipVpnConfig cfg_;
  sip::UserAgent& ua_;
  CharonSupervisor& charon_;
  std::map<std::string, Tunnel> tunnels_;  // by call id
  std::map<std::string, std::string> verified_certs_;  // SDP fingerprint -> certificate (PEM/DER) it named
  std::string decoy_ca_;
  std::vector<std::string> listed_certs_;  // list-cert events of the list-certs in flight
  bool listing_certs_ = false;
  bool polling_sas_ = false;
  Clock::time_point next_poll_{};
  TunnelCounters counters_;
};

}  // namespace mapgw::vpn
