// An XDP program attached to one interface through a bpf_link, so it can be
// replaced atomically (bpf_link_update) and survives us when pinned. libxdp's
// dispatcher does not engage on the kernels we test (SPEC.md §7), so this is
// the one attach path; native mode is the default and a device that cannot do
// it gets a clear message instead of a silent fall-back to generic mode.
#pragma once

#include <string>

#include "loader/result.h"

namespace mapgw {

enum class XdpMode { kNative, kGeneric };

class XdpLink {
 public:
  static Result<XdpLink> attach(int prog_fd, const std::string& ifname, XdpMode mode);
  // With a pin: if a link is pinned at @pin_path (a previous run left the
  // program attached) and still holds @ifname, swap @prog_fd into it
  // atomically; else (none, or its interface was deleted or recreated since)
  // attach and pin.
  static Result<XdpLink> attach_pinned(int prog_fd, const std::string& ifname, XdpMode mode,
                                       const std::string& pin_path);

  // Forget the link without detaching: it stays attached through its pin.
  void release();
  // Detach for good: remove the pin (if any) and close.
  void detach();

  Status replace_program(int new_prog_fd);  // atomic
  Status pin(const std::string& path);
  int fd() const { return fd_; }
  const std::string& ifname() const { return ifname_; }

  XdpLink(XdpLink&& o) noexcept;
  XdpLink& operator=(XdpLink&& o) noexcept;
  XdpLink(const XdpLink&) = delete;
  XdpLink& operator=(const XdpLink&) = delete;
  ~XdpLink();  // detaches unless pinned

 private:
  XdpLink(int fd, std::string ifname) : fd_(fd), ifname_(std::move(ifname)) {}
  int fd_ = -1;
  std::string ifname_;
  std::string pin_path_;
};

const char* xdp_mode_name(XdpMode mode);

}  // namespace mapgw
