// The [sip] section of mapgw.toml: the SIP user agent (sip/) as the daemon
// runs it. Names (an outbound proxy given by name) stay names here and are
// resolved when the service starts, so checking a file never waits on DNS.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "loader/result.h"
#include "sip/ua_config.h"

namespace mapgw {

struct SipConfig {
  sip::UaConfig ua;            // everything but the endpoints below
  std::string outbound_proxy;  // "host:port" or "host" (5060); "" = none
  std::vector<std::string> listen = {"[::]:5060"};  // local "addr:port"s, one per family
  std::string psk;             // PSK mode: the key (its SHA-1 goes into a=psk-fingerprint)

  bool operator==(const SipConfig&) const;
};

Result<SipConfig> parse_sip_section(const toml::table& t, const std::string& origin);

// The user agent's configuration with the endpoints resolved.
Result<sip::UaConfig> resolve_sip_config(const SipConfig& c);

// "host:port", "[v6]:port", "host" -> host and port (5060 when absent).
Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& text);

}  // namespace mapgw
