// One L2TP control connection as the LNS sees it (RFC 2661 §5.1, §5.7,
// §6, §7; the FITELnet table of seed 004): SCCRQ → SCCRP → SCCCN with
// optional tunnel authentication (Challenge / Challenge Response, MD5),
// HELLO when the LAC has been quiet, StopCCN both ways; its incoming-call
// sessions ICRQ → ICRP → ICCN, CDN both ways. Reliable delivery is the
// ReliableChannel's; sockets and PPP belong to the owner, which hears of
// datagrams to send and of sessions coming up and going down through
// Hooks. Time is passed in. Anything the RFC says ends a session or the
// tunnel (an unknown mandatory AVP, a missing required one, an ICCN that
// never comes) ends it with its result code and a named reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <openssl/rand.h>

#include "vpn/l2tp/reliable.h"

namespace mapgw::l2tp {

struct LnsSettings {
  std::string host_name = "mapgw";
  std::string vendor_name = "mapgw";
  std::string secret;          // tunnel authentication; empty: none (a LAC's Challenge is refused)
  std::string peer_host_name;  // when set, the LAC's Host Name must be this
  size_t max_sessions = 64;    // per tunnel
  std::chrono::seconds hello_interval{60};
  std::chrono::seconds setup_timeout{30}; // SCCRP sent → the SCCCN
  std::chrono::seconds iccn_timeout{10};  // ICRP sent → the ICCN
  std::chrono::seconds linger{31};        // after StopCCN: re-acknowledge retransmissions
  ReliableChannel::Config reliable;
};

struct TunnelCounters {
  uint64_t sessions_started = 0, sessions_refused = 0, iccn_timeouts = 0, hellos_sent = 0,
           unknown_mandatory = 0, ignored = 0;  // WEN, SLI, stray messages
};

class Tunnel {
 public:
  using Clock = ReliableChannel::Clock;
  enum class State { kWaitScccn, kEstablished, kStopping, kClosed };
  struct Session {
    uint16_t local_id = 0, peer_id = 0;
    uint32_t serial = 0;
    bool established = false;
    std::string calling_number, called_number;
    Clock::time_point started{};
    std::optional<Clock::time_point> iccn_due;  // ICRP sent, no ICCN yet
  };
  struct Hooks {
    std::function<void(const std::string& datagram)> send;
    std::function<void(Tunnel&, const Session&)> session_up;                       // ICCN accepted
    std::function<void(Tunnel&, const Session&, const std::string& why)> session_down;  // after it was up
    std::function<void(Tunnel&, const std::string& why)> closed;
  };

  Tunnel(LnsSettings s, uint16_t local_id, Hooks h);

  // The LAC's SCCRQ (already parsed with the secret): answers SCCRP, or
  // StopCCN when it refuses (version, host name, authentication).
  void start(const ControlMessage& sccrq, Clock::time_point now);
  // A control message addressed to our tunnel ID.
  void receive(const ControlMessage& m, Clock::time_point now);
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  // StopCCN with @result; its sessions go first (without CDNs, §5.7).
  void stop(uint16_t result, uint16_t error, const std::string& why, Clock::time_point now);
  // The path to the LAC is gone (its IPsec SA): StopCCN once, for a LAC
  // that may still hear it, and closed now rather than after its ack.
  void stop_now(uint16_t result, const std::string& why, Clock::time_point now);
  // CDN for one session.
  void disconnect(uint16_t session, uint16_t result, const std::string& why, Clock::time_point now);

  State state() const { return state_; }
  bool finished() const { return state_ == State::kClosed && lingering_until_ <= last_now_; }
  uint16_t local_id() const { return local_id_; }
  uint16_t peer_id() const { return peer_id_; }
  const std::string& peer_host() const { return peer_host_; }
  const std::string& peer_vendor() const { return peer_vendor_; }
  const std::string& end_reason() const { return end_reason_; }
  const std::map<uint16_t, Session>& sessions() const { return sessions_; }
  const TunnelCounters& counters() const { return counters_; }
  const ReliableChannel& channel() const { return channel_; }

 private:
  void send(std::vector<Avp> avps, uint16_t session, Clock::time_point now);
  void transmit(const ControlMessage& m);
  void on_message(const ControlMessage& m, Clock::time_point now);
  void on_session_message(MessageType t, const ControlMessage& m, Clock::time_point now);
  void on_icrq(const ControlMessage& m, Clock::time_point now);
  void end_session(std::map<uint16_t, Session>::iterator it, const std::string& why);
  void close(const std::string& why, Clock::time_point now);

  LnsSettings s_;
  uint16_t local_id_, peer_id_ = 0;
  Hooks hooks_;
  ReliableChannel channel_;
  State state_ = State::kWaitScccn;
  std::string peer_host_, peer_vendor_, our_challenge_, end_reason_;
  std::map<uint16_t, Session> sessions_;  // by our session ID
  Clock::time_point last_heard_{}, lingering_until_{}, last_now_{};
  std::optional<Clock::time_point> setup_due_;
  TunnelCounters counters_;
};

// A random non-zero ID that is not a key of @used (tunnel and session IDs:
// RFC 2661 §4.4.3 wants them unpredictable).
template <class Map>
uint16_t unused_random_id(const Map& used) {
  for (;;) {
    uint16_t id = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
    if (id != 0 && !used.count(id)) return id;
  }
}

// MD5(id + secret + challenge): the Challenge Response of the message whose
// Message Type is @id (2 in SCCRP, 3 in SCCCN; RFC 2661 §4.4.3).
std::string challenge_response(uint8_t id, std::string_view secret, std::string_view challenge);

}  // namespace mapgw::l2tp
