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

#include "agent/common/result.h"
#include "agent/map/rule.h"
#include "agent/net/ip.h"

namespace mapgw {

enum class Role { kBr };

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
  std::vector<DomainConfig> domains;
};

struct Config {
  Role role = Role::kBr;
  std::string instance = "default";  // names the socket and the pins
  std::string socket_path;           // default /run/mapgw/<instance>.sock
  std::string xdp_mode = "native";   // "native" or "generic"
  std::string log_level = "info";    // trace, debug, info, warn, error
  BrConfig br;

  // All rules of all domains, validated together (no ambiguity across domains).
  RuleSet all_rules() const;
};

Result<Config> parse_config(std::string_view toml_text, const std::string& origin);
Result<Config> load_config_file(const std::string& path);

inline constexpr const char* kDefaultConfigPath = "/etc/mapgw/mapgw.toml";

}  // namespace mapgw
