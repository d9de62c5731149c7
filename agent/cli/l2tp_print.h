// Text form of `mapgwctl l2tp status`: IPsec, tunnels and sessions with
// which layer is up.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

namespace mapgw {

void print_l2tp_status(const nlohmann::json& j, std::ostream& out);

}  // namespace mapgw
