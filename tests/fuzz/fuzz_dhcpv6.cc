// libFuzzer: the RFC 7598 DHCPv6 option parser (S46 containers, rules,
// port parameters) on arbitrary bytes, and its hex front end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "agent/map/dhcpv6_mape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)mapgw::parse_dhcpv6_mape(std::span<const uint8_t>(data, size));
  auto bytes = mapgw::parse_hex(std::string_view(reinterpret_cast<const char*>(data), size));
  if (bytes) (void)mapgw::parse_dhcpv6_mape(*bytes);
  return 0;
}
