// The server's TUN device: IPv4 and IPv6 packets without a packet-info
// header, non-blocking, up with the MTU of the largest PPP frame we take.
// Its address and the routes to clients are the owner's (iproute2).
#pragma once

#include <string>

#include "loader/result.h"

namespace mapgw::l2tp {

class TunDevice {
 public:
  static Result<TunDevice> open(const std::string& name, unsigned mtu);
  TunDevice(TunDevice&& o) noexcept : fd_(o.fd_), name_(std::move(o.name_)) { o.fd_ = -1; }
  TunDevice& operator=(TunDevice&&) = delete;
  ~TunDevice();
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  TunDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_;
  std::string name_;
};

}  // namespace mapgw::l2tp
