// mapgwctl's tables for the SIP user agent: `sip status` (registration and
// calls) and the one-line SIP summary under `status`.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace mapgw {

void print_sip_status(const nlohmann::json& j, std::ostream& out);
// The "registration" object that `status` carries under "sip".
void print_sip_line(const nlohmann::json& registration, std::ostream& out);
// `vpn status`: charon and the tunnels.
void print_vpn_status(const nlohmann::json& j, std::ostream& out);

}  // namespace mapgw
