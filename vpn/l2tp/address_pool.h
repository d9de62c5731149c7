// The IPv4 addresses an L2TP server hands its clients (IPCP): one range,
// the lowest free address first, returned when the session ends.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "loader/result.h"

namespace mapgw::l2tp {

class AddressPool {
 public:
  // "10.20.0.100-10.20.0.199" (host order inside).
  static Result<AddressPool> parse(const std::string& range);
  AddressPool(uint32_t first, uint32_t last) : first_(first), last_(last) {}

  std::optional<uint32_t> take();
  void give_back(uint32_t a) { used_.erase(a); }
  size_t size() const { return last_ - first_ + 1; }
  size_t in_use() const { return used_.size(); }
  bool contains(uint32_t a) const { return a >= first_ && a <= last_; }

 private:
  uint32_t first_, last_;
  std::set<uint32_t> used_;
};

std::string ipv4_string(uint32_t host_order);

}  // namespace mapgw::l2tp
