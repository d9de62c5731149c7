// The [sipvpn] section: SIP-VPN over the [sip] user agent, with charon
// supervised by the daemon (DESIGN.md "VPN"). Its PSK is [sip.ike] psk
// (the same key whose fingerprint the SDP carries).
#pragma once

#include <toml++/toml.h>

#include <string>

#include "loader/result.h"
#include "vpn/sipvpn/sipvpn.h"

namespace mapgw {

struct SipVpnSection {
  vpn::SipVpnConfig vpn;               // psk filled from [sip.ike]
  std::string esp_backend = "auto";    // "auto", "kernel" or "libipsec"
  std::string run_dir;                 // default /run/mapgw/<instance>/charon
  std::string charon = "/usr/lib/ipsec/charon";
  // Password mode, server: the self-signed certificate and its key (created
  // on first start when both are absent; default in state_dir).
  std::string certificate, certificate_key;
  int charon_log_level = 1;
};

Result<SipVpnSection> parse_sipvpn_section(const toml::table& t, const std::string& origin,
                                           const std::string& instance, const std::string& state_dir);

}  // namespace mapgw
