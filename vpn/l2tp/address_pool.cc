#include "vpn/l2tp/address_pool.h"

#include <arpa/inet.h>

namespace mapgw::l2tp {
namespace {

std::optional<uint32_t> parse_v4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

}  // namespace

Result<AddressPool> AddressPool::parse(const std::string& range) {
  const size_t dash = range.find('-');
  if (dash == std::string::npos) return make_error("address pool '" + range + "' is not FIRST-LAST");
  auto first = parse_v4(range.substr(0, dash));
  auto last = parse_v4(range.substr(dash + 1));
  if (!first || !last || *first > *last) {
    return make_error("address pool '" + range + "': two IPv4 addresses, the first not above the last");
  }
  return AddressPool(*first, *last);
}

std::optional<uint32_t> AddressPool::take() {
  // The lowest free one: a used set walked in order finds the first gap.
  uint32_t want = first_;
  for (uint32_t a : used_) {
    if (a != want) break;
    if (want == last_) return std::nullopt;
    ++want;
  }
  if (want > last_ || used_.count(want)) return std::nullopt;
  used_.insert(want);
  return want;
}

std::string ipv4_string(uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace mapgw::l2tp
