// The one typed configuration of mapgw, loaded from TOML
// (/etc/mapgw/mapgw.toml by default). Every field has a documented default;
// parse_config() is the only place that reads TOML and it rejects unknown
// keys, so a typo is an error, not a silently ignored setting.
// examples/br.toml is the commented reference for the BR role.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"
#include "agent/config/sip_section.h"
#include "agent/config/l2tp_section.h"
#include "agent/config/sipvpn_section.h"
#include "agent/map/rule.h"
#include "agent/net/ip.h"
#include "mapgw_abi.h"

namespace mapgw {

// kNone: no MAP role, only the services (a node that is only a SIP-VPN
// endpoint).
enum class Role { kBr, kCe, kNone };
const char* to_string(Role r);

// RFC 4787/5382/5508 minimums are enforced: shorter timers break apps.
struct NatTimeoutConfig {
  unsigned udp_s = 300;               // >= 120 (RFC 4787 REQ-5)
  unsigned tcp_established_s = 7440;  // >= 7440 (RFC 5382 REQ-5)
  unsigned tcp_transitory_s = 240;    // >= 240 (RFC 5382 REQ-5)
  unsigned icmp_s = 60;               // >= 60 (RFC 5508 REQ-1)
};

struct StaticNaptConfig {
  uint8_t proto = 6;            // IPPROTO_TCP / UDP
  uint16_t external_port = 0;   // must be in the CE's port set
  Ipv4Endpoint internal;
};

struct FilterRuleConfig {       // LAN -> WAN, first match wins
  bool deny = true;
  uint8_t proto = 0;            // 0 = any
  Ipv4Prefix source;            // default 0.0.0.0/0
  Ipv4Prefix destination;
  uint16_t port_lo = 0, port_hi = 65535;
};

struct NatLogConfig {
  bool enabled = false;              // off by default (book §5.3.2: for abuse response)
  bool sessions = false;             // also every session (with the remote endpoint)
  std::string destination = "syslog";  // or "file:/path"
  unsigned rate_limit = 20000;       // events per second per CPU; the rest are counted, not logged
};

enum class Filtering { kEndpointIndependent = 0, kAddressDependent = 1, kAddressPortDependent = 2 };

struct CeConfig {
  std::string wan_interface;
  std::string lan_interface;
  std::string slow_path_interface = "mapgw0";
  std::vector<MapRule> rules;                 // BMR candidates and FMRs (",fmr")
  std::optional<Ipv6Addr> br_address;         // from config or DHCPv6
  std::optional<Ipv6Prefix> end_user_prefix;  // none: read from the WAN interface
  bool legacy_iid = false;
  Filtering filtering = Filtering::kEndpointIndependent;
  NatTimeoutConfig timeouts;
  unsigned max_sessions = 65536;
  unsigned host_session_limit = 0;            // 0: unlimited
  // Percent of the port set one LAN host may bind (its further endpoints
  // share bound ports by 5-tuple); 100: no limit.
  unsigned host_port_share = 85;
  // Receive spreading of what the BR sends, by inner flow (bpf/spread.h):
  // "" = off, "all" = the online CPUs, or a CPU list ("0-3,6").
  std::string spread_cpus;
  std::vector<StaticNaptConfig> static_napt;
  std::vector<FilterRuleConfig> filter;
  std::vector<Ipv4Prefix> ipv4_routes;        // into MAP-E; default 0.0.0.0/0
  NatLogConfig nat_log;
};

struct DomainConfig {
  std::string name;
  Ipv6Addr br_address;          // outer source towards the domain's CEs
  bool legacy_iid = false;      // default for the domain's rules
  std::vector<MapRule> rules;   // FMRs of the domain
};

struct BrConfig {
  std::string ipv4_interface;   // towards the IPv4 internet
  std::string ipv6_interface;   // towards the CEs
  std::string slow_path_interface = "mapgw0";  // veth pair mapgw creates
  std::optional<Ipv4Addr> icmp_source;  // ICMPv4 errors mapgw makes; default:
                                        // the IPv4 interface's first address
  unsigned fragment_timeout_s = 5;       // first-fragment PSID memory
  // Receive spreading by inner flow (bpf/spread.h): "" = off, "all" = the
  // online CPUs, or a CPU list as the kernel writes it ("0-3,6").
  std::string spread_cpus;
  std::vector<DomainConfig> domains;
};

struct Config {
  Role role = Role::kBr;
  std::string instance = "default";  // names the socket and the pins
  std::string socket_path;           // default /run/mapgw/<instance>.sock
  std::string xdp_mode = "native";   // "native" or "generic"
  std::string log_level = "info";    // trace, debug, info, warn, error
  // Prometheus listen address: "a.b.c.d:port" (IPv4; Debian's civetweb has
  // no IPv6 binding), "port" for all addresses, "" = off.
  std::string metrics = "127.0.0.1:9680";
  // Where maps and links are pinned: <bpffs>/mapgw/<instance>/. "" = no pins
  // (a restart then starts from empty NAT state).
  std::string bpffs = "/sys/fs/bpf";
  // On SIGTERM: "keep" leaves the data plane forwarding (pinned) for the
  // next start to adopt; "detach" removes programs, pins, routes, devices.
  std::string on_stop = "keep";
  // Files that outlive a run (the BR's rule history): <state_dir>/<instance>/.
  std::string state_dir = "/var/lib/mapgw";
  // The data plane's per-CPU cache of FIB answers (bpf/route_cache.h),
  // invalidated on every netlink route/neighbour/address/link/rule change.
  // false: every packet asks the kernel's FIB.
  bool route_cache = true;
  // Sets per CPU of the data plane's flow cache (bpf/flow_cache.h): four
  // flows each, 256 (CE) or 320 (BR) bytes per set and CPU; a power of two,
  // MAPGW_FLOW_CACHE_SETS_MIN..MAX. Changing it takes a restart (with on_stop = "detach" when
  // the maps are pinned).
  uint32_t flow_cache_sets = MAPGW_FLOW_CACHE_SETS;
  BrConfig br;  // role = "br"
  CeConfig ce;  // role = "ce"
  std::optional<SipConfig> sip;  // [sip]: the SIP user agent runs
  std::optional<SipVpnSection> sipvpn;  // [sipvpn]: calls become IPsec tunnels (needs [sip])
  std::optional<L2tpSection> l2tp;      // [l2tp]: the L2TP/IPsec remote-access server

  // All rules of all domains, validated together (no ambiguity across domains).
  RuleSet all_rules() const;
};

Result<Config> parse_config(std::string_view toml_text, const std::string& origin);
Result<Config> load_config_file(const std::string& path);

inline constexpr const char* kDefaultConfigPath = "/etc/mapgw/mapgw.toml";

}  // namespace mapgw
