// LCP as an L2TP/IPsec server speaks it (RFC 1661 §6, RFC 1994, RFC 2759;
// FITELnet's table in seed 004): we ask for our MRU, an authentication
// protocol (the first of ours the client accepts: a Nak naming another of
// ours switches to it) and a Magic-Number; we accept the client's MRU,
// ACCM, PFC and ACFC and its Magic-Number (a copy of ours is a loop:
// Nak'd with a fresh one, and after 5 the link is given up); we Reject
// options we do not do (the client authenticating us, Quality, callback,
// multilink). Echo-Request is answered; our own Echo-Requests keep the
// link alive and its loss ends it. Protocol-Rejects go to the owner.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vpn/ppp/fsm.h"

namespace mapgw::ppp {

enum class AuthMethod { kPap, kChapMd5, kMsChapV2 };
const char* to_string(AuthMethod m);
// The Authentication-Protocol option's value for @m.
std::string auth_option_value(AuthMethod m);

namespace lcp_option {
constexpr uint8_t kMru = 1, kAccm = 2, kAuthProtocol = 3, kQuality = 4, kMagic = 5, kPfc = 7, kAcfc = 8;
}

struct LcpSettings {
  uint16_t mru = 1400;  // what we ask to receive (FITELnet sends 1400)
  std::vector<AuthMethod> auth = {AuthMethod::kMsChapV2, AuthMethod::kChapMd5, AuthMethod::kPap};  // preference
  std::chrono::seconds echo_interval{10};
  int echo_failures = 3;  // unanswered Echo-Requests in a row that end the link
  int max_loops = 5;      // our Magic-Number seen back this often: a looped-back line
};

class Lcp : public Fsm::Protocol {
 public:
  using Clock = Fsm::Clock;
  struct Hooks {
    std::function<void(const Packet&)> send;
    std::function<void()> up;                       // authentication may start
    std::function<void(const std::string& why)> down;      // this-layer-down: no more data
    std::function<void(const std::string& why)> finished;  // this-layer-finished: the link is over
    std::function<void(uint16_t protocol)> protocol_rejected;
  };

  Lcp(LcpSettings s, Hooks h, uint32_t magic);

  Fsm& fsm() { return fsm_; }
  void on_timer(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;
  // Every received frame counts as life on the link (no echo needed then);
  // call it (it also tells the time) before handing LCP a packet.
  void heard(Clock::time_point now) {
    last_heard_ = now_ = now;
    echoes_unanswered_ = 0;
  }

  // What was agreed, valid once opened.
  AuthMethod auth() const { return s_.auth[auth_index_]; }
  uint16_t peer_mru() const { return peer_mru_; }  // the largest frame we may send
  bool peer_pfc() const { return peer_pfc_; }
  bool peer_acfc() const { return peer_acfc_; }
  uint32_t magic() const { return magic_; }
  int loops_seen() const { return loops_; }

  // Fsm::Protocol
  std::vector<Option> our_request() override;
  Fsm::Verdict check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) override;
  bool on_nak(const std::vector<Option>& naked) override;
  bool on_reject(const std::vector<Option>& rejected) override;
  void up() override;
  void down() override;
  void finished(const std::string& why) override;
  bool extra_code(const Packet& p) override;

 private:
  LcpSettings s_;
  Hooks h_;
  Fsm fsm_;
  uint32_t magic_;
  bool ask_mru_ = true, ask_magic_ = true;
  size_t auth_index_ = 0;
  uint16_t peer_mru_ = 1500;
  bool peer_pfc_ = false, peer_acfc_ = false;
  int loops_ = 0;
  int echoes_unanswered_ = 0;
  Clock::time_point last_heard_{};
  std::optional<Clock::time_point> next_echo_;
  Clock::time_point now_{};
};

}  // namespace mapgw::ppp
