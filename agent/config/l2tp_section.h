// The [l2tp] section: the L2TP/IPsec remote-access server (SPEC.md §5,
// DESIGN.md "VPN"): where it listens, IKEv1 with a PSK and/or certificates
// through charon, PPP
// logins from a users file, the address pool and DNS, limits and timers.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "loader/result.h"
#include "vpn/l2tp/ipsec_config.h"
#include "vpn/l2tp/server.h"

namespace mapgw {

struct L2tpSection {
  l2tp::ServerConfig server;  // lns.link.ipcp.local/dns and lcp.mru filled in
  l2tp::IpsecSettings ipsec;  // local_addrs = server.listen
  bool require_ipsec = true;
  std::string cert_subject, cert_not_after;  // of ipsec.cert_pem, for status and --check-config
  std::string esp_backend = "auto";  // "auto", "kernel" or "libipsec"
  std::string run_dir;               // default /run/mapgw/<instance>/l2tp-charon
  std::string charon = "/usr/lib/ipsec/charon";
  int charon_log_level = 1;
  uint16_t path_mtu = 1500;
  std::string as_written;  // the section as TOML without its credentials: a reload compares it
  bool same_settings(const L2tpSection& o) const { return as_written == o.as_written; }
  bool operator==(const L2tpSection& o) const { return same_settings(o) && ipsec.same_credentials(o.ipsec); }
};

Result<L2tpSection> parse_l2tp_section(const toml::table& t, const std::string& origin, const std::string& instance);

}  // namespace mapgw
