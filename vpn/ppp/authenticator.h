// The server's side of the PPP login LCP agreed on: PAP (RFC 1334 §2:
// Authenticate-Request → Ack/Nak), CHAP-MD5 (RFC 1994: Challenge →
// Response → Success/Failure, the challenge repeated on silence) and
// MS-CHAPv2 (RFC 2759: the same exchange, a 49-byte response checked
// against the NT password hash, "S=" proving the server, "E=691" on a
// wrong password). Users come from a UserDb. One login per link; a failed
// one is final (the owner ends the link, as pppd does).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "vpn/ppp/lcp.h"
#include "vpn/ppp/users.h"

namespace mapgw::ppp {

struct AuthSettings {
  std::string name = "mapgw";              // our name in CHAP challenges
  std::chrono::seconds retry{3};           // a challenge repeated after
  int max_challenges = 10;
  std::chrono::seconds wait{30};           // PAP: for the Authenticate-Request
};

class Authenticator {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kIdle, kWaiting, kSucceeded, kFailed };
  struct Hooks {
    std::function<void(uint16_t protocol, const Packet&)> send;
    std::function<void(const std::string& user)> success;
    std::function<void(const std::string& user, const std::string& why)> failure;
  };

  Authenticator(AuthMethod m, const UserDb& users, AuthSettings s, Hooks h)
      : m_(m), users_(users), s_(std::move(s)), h_(std::move(h)) {}

  // LCP is open: a challenge goes out (CHAP), or the wait starts (PAP).
  void start(Clock::time_point now);
  // A PAP or CHAP packet from the client.
  void receive(uint16_t protocol, std::string_view info, Clock::time_point now);
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const { return due_; }

  State state() const { return state_; }
  AuthMethod method() const { return m_; }
  const std::string& user() const { return user_; }
  uint16_t protocol() const { return m_ == AuthMethod::kPap ? proto::kPap : proto::kChap; }

 private:
  void challenge(Clock::time_point now);
  void on_pap(const Packet& p);
  void on_chap_response(const Packet& p);
  void answer(uint8_t code, uint8_t id, const std::string& message);
  void succeed(uint8_t code, uint8_t id, const std::string& message);
  void fail(uint8_t code, uint8_t id, const std::string& message, const std::string& why);

  AuthMethod m_;
  const UserDb& users_;
  AuthSettings s_;
  Hooks h_;
  State state_ = State::kIdle;
  std::string user_, challenge_;
  uint8_t id_ = 0;
  int challenges_ = 0;
  std::optional<Clock::time_point> due_;
};

}  // namespace mapgw::ppp
