#include "loader/xdp_link.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace mapgw {

const char* xdp_mode_name(XdpMode mode) { return mode == XdpMode::kNative ? "native" : "generic"; }

Result<XdpLink> XdpLink::attach(int prog_fd, const std::string& ifname, XdpMode mode) {
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return make_error("interface " + ifname + " not found", errno);
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.flags = mode == XdpMode::kNative ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  int fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
  if (fd < 0) {
    const int err = errno;
    if (mode == XdpMode::kNative && (err == EOPNOTSUPP || err == EINVAL)) {
      return make_error("interface " + ifname +
                            " cannot run XDP in native (driver) mode; set xdp_mode = \"generic\" "
                            "to use the slower generic mode",
                        err);
    }
    if (err == EBUSY || err == EEXIST) {
      return make_error("interface " + ifname +
                            " already has an XDP program attached (another mapgw, or "
                            "`ip link set dev " + ifname + " xdp off` to remove a stale one)",
                        err);
    }
    return make_error(std::string("attaching XDP (") + xdp_mode_name(mode) + ") to " + ifname,
                      err);
  }
  return XdpLink(fd, ifname);
}

namespace {

// The interface a pinned XDP link is attached to; 0 once the kernel has cut
// it loose (its interface deleted: "Link has been severed" on update).
unsigned attached_ifindex(int link_fd) {
  bpf_link_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return 0;
  return info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
}

}  // namespace

Result<XdpLink> XdpLink::attach_pinned(int prog_fd, const std::string& ifname, XdpMode mode,
                                       const std::string& pin_path) {
  int old = bpf_obj_get(pin_path.c_str());
  if (old >= 0 && attached_ifindex(old) != if_nametoindex(ifname.c_str())) {
    // Pinned for an interface that is gone (recreated since, perhaps under
    // the same name): nothing to keep, attach afresh.
    close(old);
    unlink(pin_path.c_str());
    old = -1;
  }
  if (old >= 0) {
    XdpLink link(old, ifname);
    link.pin_path_ = pin_path;
    if (auto st = link.replace_program(prog_fd); !st) return st.error();
    return link;
  }
  auto link = attach(prog_fd, ifname, mode);
  if (!link) return link.error();
  if (auto st = link->pin(pin_path); !st) return st.error();
  link->pin_path_ = pin_path;
  return link;
}

void XdpLink::release() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void XdpLink::detach() {
  if (!pin_path_.empty()) unlink(pin_path_.c_str());
  if (fd_ >= 0) {
    bpf_link_detach(fd_);
    close(fd_);
  }
  fd_ = -1;
}

Status XdpLink::replace_program(int new_prog_fd) {
  if (bpf_link_update(fd_, new_prog_fd, nullptr) != 0) {
    return make_error("replacing the XDP program on " + ifname_, errno);
  }
  return Status::Ok();
}

Status XdpLink::pin(const std::string& path) {
  if (bpf_obj_pin(fd_, path.c_str()) != 0) return make_error("pinning XDP link at " + path, errno);
  return Status::Ok();
}

XdpLink::XdpLink(XdpLink&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), ifname_(std::move(o.ifname_)), pin_path_(std::move(o.pin_path_)) {}

XdpLink& XdpLink::operator=(XdpLink&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    ifname_ = std::move(o.ifname_);
    pin_path_ = std::move(o.pin_path_);
  }
  return *this;
}

XdpLink::~XdpLink() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace mapgw
