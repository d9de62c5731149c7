// The server's TUN device: IPv4 and IPv6 packets without a packet-info
// header but behind a virtio-net header (IFF_VNET_HDR), so that a write can
// hand the kernel coalesced TCP segments (tun_gro.h) and a read can take a
// TCP burst of up to 64 KiB (TSO, cut by tun_gso.h); non-blocking, up with
// the MTU of the largest PPP frame we take.
// Its address and the routes to clients are the owner's (iproute2).
#pragma once


#include <string>
#include <string_view>

#include "loader/result.h"

#include "vpn/l2tp/vnet_header.h"

namespace mapgw::l2tp {

class TunDevice {
 public:
  static Result<TunDevice> open(const std::string& name, unsigned mtu);
  TunDevice(TunDevice&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)) { o.fd_ = -1; }
  TunDevice& operator=(TunDevice&&) = delete;
  ~TunDevice();
  static constexpr size_t kHeader = sizeof(VnetHeader);
  int fd() const { return fd_; }
  // One packet as it is, behind an empty header.
  bool write(std::string_view ip) const;
  const std::string& name() const { return name_; }

 private:
  TunDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_;
  std::string name_;
};

}  // namespace mapgw::l2tp
