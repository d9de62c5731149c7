// The ports one PSID owns (RFC 7597 §5.1, Appendix B), as ranges for people
// and as a dense index 0..N-1 for NAT tables. All arithmetic is the shared
// core in bpf/map_math.h, so the agent and the data plane agree.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "map_math.h"

namespace mapgw {

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

class PortSet {
 public:
  // k = 0 means no sharing: all 65536 ports.
  PortSet(unsigned offset, unsigned psid_len, uint16_t psid)
      : a_(offset), k_(psid_len), psid_(psid_len ? psid : 0) {}

  unsigned offset() const { return a_; }
  unsigned psid_len() const { return k_; }
  uint16_t psid() const { return psid_; }
  bool shared() const { return k_ > 0; }

  uint32_t size() const { return mapgw_port_count(a_, k_); }
  uint16_t port_at(uint32_t index) const { return mapgw_port_from_index(a_, k_, psid_, index); }
  std::optional<uint32_t> index_of(uint16_t port) const {
    int32_t i = mapgw_port_to_index(a_, k_, psid_, port);
    if (i < 0) return std::nullopt;
    return static_cast<uint32_t>(i);
  }
  bool contains(uint16_t port) const { return index_of(port).has_value(); }

  // Contiguous ranges in ascending order: 2^a - 1 ranges of 2^m ports when
  // a > 0, one range when a = 0.
  std::vector<PortRange> ranges() const {
    std::vector<PortRange> out;
    const uint32_t run = shared() ? (1u << (16 - a_ - k_)) : 65536;
    for (uint32_t i = 0; i < size(); i += run) {
      out.push_back({port_at(i), port_at(i + run - 1)});
    }
    return out;
  }

 private:
  unsigned a_, k_;
  uint16_t psid_;
};

}  // namespace mapgw
