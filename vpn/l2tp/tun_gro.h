// Receive offload for the TUN device, in user space. The TCP segments one
// batch of datagrams brings for the same flow — consecutive, alike in
// every header field but the sequence number and the IPv4 ID, each with a
// good checksum — are written as one packet behind a virtio-net header
// (gso_type TCPV4/TCPV6, checksum left to the kernel), the way a NIC's
// GRO hands them to the stack: one write and one trip through routing and
// the firewall for up to kMaxSegments of them. The kernel cuts such a
// packet back into the very segments it was made of wherever it must
// (tcp_gso_segment). Everything else goes as it came, in order within its
// flow, behind an empty header.
#pragma once

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "vpn/l2tp/vnet_header.h"

namespace mapgw::l2tp {

class TunGro {
 public:
  static constexpr size_t kMaxPackets = 64;   // held before a flush
  static constexpr size_t kMaxSegments = 44;  // 44 × 1460 bytes stays under 64 KiB
  // One packet for the TUN device: the virtio-net header, then the parts.
  using Writer = std::function<bool(const iovec* parts, int count)>;
  // Written by the data thread alone, read by the metrics.
  struct Counters {
    std::atomic<uint64_t> writes{0}, packets{0}, coalesced{0}, failed_packets{0};
  };

  explicit TunGro(Writer write) : write_(std::move(write)) {}

  // @ip: one IP packet. Its buffer must stay as it is until the next
  // flush(), which may rewrite its headers.
  void add(char* ip, size_t len);
  // Writes everything held, a flow's packets in the order they came.
  void flush();
  const Counters& counters() const { return counters_; }

 private:
  struct Item {
    char* first = nullptr;  // the first segment; its headers describe the whole at flush
    size_t first_len = 0, ip_len = 0, tcp_len = 0, gso_size = 0, payload = 0;
    uint32_t next_seq = 0;
    uint16_t next_id = 0;
    bool v6 = false, open = false, push = false;
    size_t segments = 0;
    std::array<iovec, kMaxSegments> parts{};  // the first whole, then the others' payloads
  };
  struct Segment;  // a TCP packet's fields, read once

  Item* open_item_of(const Segment& s);
  static bool joins(const Item& item, const Segment& s);
  void start(char* ip, size_t len, const Segment* s);
  void write(Item& item);

  Writer write_;
  std::array<Item, kMaxPackets> items_{};
  size_t held_ = 0;
  Counters counters_;
};

}  // namespace mapgw::l2tp
