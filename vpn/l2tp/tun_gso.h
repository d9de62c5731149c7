// Segmentation offload for the TUN device, in user space: with TSO on
// (TUNSETOFFLOAD), the kernel hands us a TCP flow's data for a client as
// one packet of up to 64 KiB behind a virtio-net header, and we cut it into
// the segments it stands for, as tcp_gso_segment would: the headers copied,
// the IPv4 ID and the sequence number counted on, PSH and FIN on the last
// segment only, CWR on the first only, every checksum computed. One read
// instead of one per segment, and no copy of the data: a segment is its
// new headers and a slice of the packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vpn/l2tp/vnet_header.h"

namespace mapgw::l2tp {

class TcpSegments {
 public:
  static constexpr size_t kMaxHeaders = 60 + 60;  // IPv4 with options, TCP with options

  // nullopt: @ip behind @vnet is not a TCP packet over IPv4 or IPv6 (no
  // extension headers) that we can cut. The header's own hdr_len is not
  // trusted (a TUN device reports its linear part there).
  static std::optional<TcpSegments> of(const VnetHeader& vnet, std::string_view ip);

  size_t count() const { return count_; }
  size_t header_length() const { return headers_; }
  // Segment @i: its headers written to @out (header_length() bytes), its
  // data returned (a slice of the packet).
  std::string_view segment(size_t i, char* out) const;

 private:
  std::string_view ip_;
  size_t ip_len_ = 0, headers_ = 0, mss_ = 0, count_ = 0;
  bool v6_ = false;
};

}  // namespace mapgw::l2tp
