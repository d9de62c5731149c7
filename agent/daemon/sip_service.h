// The SIP user agent (sip/) as a daemon service: its sockets and timer on
// one epoll descriptor of its own (one fd for the daemon's loop, stable
// across reloads), the bodies of the control commands sip_status /
// sip_call / sip_hangup, status and metrics. A [sip] change on reload starts a new user agent
// (un-registers, ends calls); an unchanged section keeps everything.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "agent/config/sip_section.h"
#include "sip/udp_transport.h"
#include "sip/user_agent.h"

namespace mapgw {

class SipService {
 public:
  // How long a stop waits for the un-REGISTER and the BYEs to be answered.
  static constexpr std::chrono::milliseconds kStopGrace{2000};

  static Result<std::unique_ptr<SipService>> start(const SipConfig& cfg);
  ~SipService();

  Status reload(const SipConfig& cfg);
  void stop();

  int fd() const { return ep_; }
  void on_event();

  nlohmann::json status() const;
  // {"gauges": [...], "totals": [...]} in the shape metrics.h documents.
  nlohmann::json metrics() const;
  // The control commands' bodies: {"uri", "role"} and {"call"}.
  nlohmann::json call(const nlohmann::json& req);
  nlohmann::json hangup(const nlohmann::json& req);

  sip::UserAgent& ua() { return *ua_; }

 private:
  SipService() = default;
  Status open(const SipConfig& cfg);
  void close_ua();
  void arm_timer();
  nlohmann::json call_json(const sip::Call& c) const;

  int ep_ = -1;
  int timer_fd_ = -1;
  SipConfig cfg_;
  sip::UaConfig resolved_;
  std::unique_ptr<sip::UdpTransport> transport_;
  std::unique_ptr<sip::UserAgent> ua_;
};

}  // namespace mapgw
