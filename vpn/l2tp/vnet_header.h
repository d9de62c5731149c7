// The virtio-net header a TUN device with IFF_VNET_HDR puts before each
// packet (struct virtio_net_hdr, the virtio 1.0 specification §5.1.6,
// native byte order on a TUN device). Spelled out here because
// <linux/virtio_net.h> does not compile as C++ (a field named "class").
#pragma once

#include <cstdint>

namespace mapgw::l2tp {

struct VnetHeader {
  static constexpr uint8_t kNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4;

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;      // the headers in front of the data
  uint16_t gso_size = 0;     // the data of each segment
  uint16_t csum_start = 0;   // where the checksummed part starts
  uint16_t csum_offset = 0;  // where its checksum field is, from there
};
static_assert(sizeof(VnetHeader) == 10);

}  // namespace mapgw::l2tp
