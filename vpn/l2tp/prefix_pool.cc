#include "vpn/l2tp/prefix_pool.h"

#include <arpa/inet.h>

#include <cstring>

namespace mapgw::l2tp {

Result<PrefixPool> PrefixPool::parse(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return make_error("'" + text + "' is not a prefix (address/length)");
  const std::string len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 2 || len_text.find_first_not_of("0123456789") != std::string::npos) {
    return make_error("'" + text + "': the length is not a number");
  }
  const int len = std::stoi(len_text);
  if (len < 32 || len > 64) return make_error("'" + text + "': the length must be 32..64 (clients get /64s)");
  in6_addr a{};
  if (inet_pton(AF_INET6, text.substr(0, slash).c_str(), &a) != 1) {
    return make_error("'" + text + "' is not an IPv6 prefix");
  }
  uint64_t upper = 0;
  for (int i = 0; i < 8; ++i) upper = upper << 8 | a.s6_addr[i];
  const uint64_t host_bits = 64 - len;
  const uint64_t mask = host_bits == 64 ? 0 : ~uint64_t{0} << host_bits;
  if ((upper & ~mask) != 0) return make_error("'" + text + "' has bits set past its length");
  for (int i = 8; i < 16; ++i) {
    if (a.s6_addr[i]) return make_error("'" + text + "' has bits set past its length");
  }
  const uint64_t count = host_bits >= 16 ? kMaxPrefixes : uint64_t{1} << host_bits;
  return PrefixPool(upper, count);
}

std::optional<uint64_t> PrefixPool::take() {
  for (uint64_t i = 0; i < count_; ++i) {
    if (used_.insert(first_ + i).second) return first_ + i;
  }
  return std::nullopt;
}

std::string prefix64_string(uint64_t p) {
  in6_addr a{};
  for (int i = 7; i >= 0; --i, p >>= 8) a.s6_addr[i] = static_cast<uint8_t>(p);
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return std::string(buf) + "/64";
}

}  // namespace mapgw::l2tp
