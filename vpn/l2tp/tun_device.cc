#include "vpn/l2tp/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

namespace mapgw::l2tp {

Result<TunDevice> TunDevice::open(const std::string& name, unsigned mtu) {
  if (name.empty() || name.size() >= IFNAMSIZ) return make_error("TUN device name '" + name + "' is not a valid interface name");
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_error("opening /dev/net/tun", errno);
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd);
    return make_error("creating TUN device " + name, e);
  }
  // Checksum and TCP segmentation offload: the stack hands us a TCP
  // burst for a client as one packet, which the data path cuts (tun_gso.h).
  if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
    const int e = errno;
    ::close(fd);
    return make_error("asking offload of TUN device " + name, e);
  }
  TunDevice dev(fd, ifr.ifr_name);
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return make_error("socket for ioctl", errno);
  ifr.ifr_mtu = static_cast<int>(mtu);
  int rc = ioctl(s, SIOCSIFMTU, &ifr);
  const int mtu_errno = errno;
  if (rc == 0) {
    rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
      ifr.ifr_flags |= IFF_UP;
      rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
  }
  const int e = errno;
  ::close(s);
  if (rc < 0) return make_error("setting MTU " + std::to_string(mtu) + " and up on " + name, rc == 0 ? mtu_errno : e);
  return dev;
}

bool TunDevice::write(std::string_view ip) const {
  VnetHeader none;
  const iovec parts[2] = {{&none, sizeof none}, {const_cast<char*>(ip.data()), ip.size()}};
  return writev(fd_, parts, 2) >= 0;
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mapgw::l2tp
