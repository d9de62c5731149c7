// The IPv6 /64s an L2TP server hands its clients, one per session, from
// one shorter prefix ("2001:db8:100::/56" gives 256): advertised to the
// client over its PPP link (Router Advertisement, SLAAC) and routed to it.
// A /64 is its upper 64 bits; the lowest free one first.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "loader/result.h"

namespace mapgw::l2tp {

class PrefixPool {
 public:
  static constexpr unsigned kMaxPrefixes = 65536;
  // "2001:db8:100::/56": 32 ≤ length ≤ 64; more than kMaxPrefixes /64s are
  // capped (the first ones).
  static Result<PrefixPool> parse(const std::string& text);

  std::optional<uint64_t> take();
  void give_back(uint64_t p) { used_.erase(p); }
  size_t size() const { return count_; }
  size_t in_use() const { return used_.size(); }

 private:
  PrefixPool(uint64_t first, uint64_t count) : first_(first), count_(count) {}
  uint64_t first_, count_;
  std::set<uint64_t> used_;
};

// "2001:db8:100:5::/64" for a /64's upper bits.
std::string prefix64_string(uint64_t p);

}  // namespace mapgw::l2tp
