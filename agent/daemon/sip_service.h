// The SIP user agent (sip/) as a daemon service: its sockets and timer on
// one epoll descriptor of its own (one fd for the daemon's loop, stable
// across reloads), the bodies of the control commands sip_status /
// sip_call / sip_hangup, status and metrics. A [sip] change on reload starts a new user agent
// (un-registers, ends calls); an unchanged section keeps everything.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "agent/config/sip_section.h"
#include "agent/config/sipvpn_section.h"
#include "vpn/charon/supervisor.h"
#include "vpn/sipvpn/sipvpn.h"
#include "sip/udp_transport.h"
#include "sip/user_agent.h"

namespace mapgw {

class SipService {
 public:
  // How long a stop waits for the un-REGISTER and the BYEs to be answered.
  static constexpr std::chrono::milliseconds kStopGrace{2000};

  // @vpn: [sipvpn], when the calls are to become tunnels (charon starts).
  static Result<std::unique_ptr<SipService>> start(const SipConfig& cfg,
                                                   const std::optional<SipVpnSection>& vpn);
  ~SipService();

  Status reload(const SipConfig& cfg, const std::optional<SipVpnSection>& vpn);
  void stop();

  int fd() const { return ep_; }
  void on_event();

  nlohmann::json status() const;
  // {"gauges": [...], "totals": [...]} in the shape metrics.h documents.
  nlohmann::json metrics() const;
  // The control commands' bodies: {"uri", "role"} and {"call"}.
  nlohmann::json call(const nlohmann::json& req);
  nlohmann::json hangup(const nlohmann::json& req);
  // vpn_status / vpn_disconnect (TS-1017's order: IKE delete, then BYE).
  nlohmann::json vpn_status() const;
  nlohmann::json vpn_disconnect(const nlohmann::json& req);

  sip::UserAgent& ua() { return *ua_; }

 private:
  SipService() = default;
  Status open(const SipConfig& cfg, const std::optional<SipVpnSection>& vpn);
  Status start_vpn(const SipVpnSection& vpn);
  void close_ua();
  void arm_timer();
  nlohmann::json call_json(const sip::Call& c) const;

  int ep_ = -1;
  int timer_fd_ = -1;
  SipConfig cfg_;
  sip::UaConfig resolved_;
  std::unique_ptr<sip::UdpTransport> transport_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::optional<SipVpnSection> vpn_cfg_;        // as running (certificate filled in)
  std::optional<SipVpnSection> vpn_cfg_input_;  // as configured: what a reload compares
  std::unique_ptr<vpn::CharonSupervisor> charon_;
  std::unique_ptr<vpn::SipVpn> sipvpn_;
};

}  // namespace mapgw
