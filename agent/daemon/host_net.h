// The host-side networking the daemon needs around its BPF programs:
// iproute2 invocations (argument vectors, never a shell), sysctls and
// interface facts. iproute2 is used instead of hand-written rtnetlink
// because it is what operators debug with; every failure carries the
// command and ip's own message.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "loader/result.h"
#include "agent/net/ip.h"

namespace mapgw {

// Runs `ip ARGS...`.
Status run_ip(const std::vector<std::string>& args);
// Runs `ip -batch -` with @lines on stdin (one command per line).
Status run_ip_batch(const std::vector<std::string>& lines);

Result<std::string> read_sysctl(const std::string& name);  // "net.ipv4.ip_forward"
Status write_sysctl(const std::string& name, const std::string& value);

bool interface_exists(const std::string& ifname);
Result<unsigned> interface_index(const std::string& ifname);
Result<unsigned> interface_mtu(const std::string& ifname);
std::optional<Ipv4Addr> first_ipv4_address(const std::string& ifname);

// Enable IPv4 and IPv6 forwarding (logged when it was off).
Status enable_forwarding();

// Makes the kernel drop IPv4 packets with a source-route option.
Status refuse_source_routes();

// Decapsulated IPv4 arrives on @ifname with sources routed elsewhere (via
// the slow-path device): strict reverse-path filtering would drop it.
Status relax_rp_filter(const std::string& ifname);

// The slow-path veth pair @name / @name-s with @mtu, no ARP, up. *created
// says whether this call made it (and so stop() should remove it).
Status ensure_slow_path(const std::string& name, unsigned mtu, bool* created);

// Routes mapgw owns (`ip route show proto 109`): make @want the set of IPv4
// prefixes routed into @dev, given that @have is routed now.
inline constexpr const char* kRouteProto = "109";
Status sync_ipv4_routes(const std::set<std::string>& want, const std::set<std::string>& have,
                        const std::string& dev);

}  // namespace mapgw
