// IPv6 inside a PPP session (RFC 5072 §5, RFC 4861): IPV6CP gives each
// end a link-local interface identifier; the client's global address
// comes by SLAAC from the /64 we advertise. Router Advertisements to the
// client (the prefix with L and A, its MTU, the DNS servers as RDNSS —
// RFC 8106), and the test for a Router Solicitation that asks for one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mapgw::l2tp {

using Ipv6Address = std::array<uint8_t, 16>;

struct RouterAdvertSettings {
  std::array<uint8_t, 8> our_iid{};  // our link-local fe80::<iid>, the RA's source
  uint64_t prefix = 0;               // the client's /64 (upper bits)
  uint16_t mtu = 0;                  // 0: no MTU option
  std::vector<Ipv6Address> dns;      // RDNSS
  uint16_t router_lifetime = 1800;   // seconds
};

// A whole IPv6 packet: fe80::<our_iid> → ff02::1, hop limit 255.
std::string router_advertisement(const RouterAdvertSettings& s);
// An ICMPv6 Router Solicitation (type 133) with hop limit 255?
bool is_router_solicitation(std::string_view ipv6);

}  // namespace mapgw::l2tp
