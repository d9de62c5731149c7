// The programs a data plane has attached: XDP links (pinned next to the
// maps when the data plane is pinned) and TC filters. Detach removes them
// and the pins; release leaves them attached for the next run to adopt.
#pragma once

#include <string>
#include <vector>

#include "loader/result.h"
#include "loader/pinning.h"
#include "loader/tc_filter.h"
#include "loader/xdp_link.h"

namespace mapgw {

class Attachments {
 public:
  explicit Attachments(std::string pin_dir) : pin_dir_(std::move(pin_dir)) {}

  Status add_xdp(int prog_fd, const std::string& ifname, XdpMode mode) {
    auto link = pin_dir_.empty()
                    ? XdpLink::attach(prog_fd, ifname, mode)
                    : XdpLink::attach_pinned(prog_fd, ifname, mode, pin_dir_ + "/link_xdp_" + ifname);
    if (!link) return link.error();
    xdp_.push_back(std::move(*link));
    return Status::Ok();
  }

  Status add_tc(int prog_fd, const std::string& ifname, TcDirection dir) {
    auto f = TcFilter::attach(prog_fd, ifname, dir);
    if (!f) return f.error();
    tc_.push_back(std::move(*f));
    return Status::Ok();
  }

  void detach() {
    for (auto& l : xdp_) l.detach();
    for (auto& f : tc_) f.detach();
    xdp_.clear();
    tc_.clear();
    if (!pin_dir_.empty()) remove_pins(pin_dir_);
  }

  void release() {
    for (auto& l : xdp_) l.release();
    for (auto& f : tc_) f.release();
    xdp_.clear();
    tc_.clear();
  }

  bool empty() const { return xdp_.empty(); }
  const std::string& pin_dir() const { return pin_dir_; }

 private:
  std::string pin_dir_;
  std::vector<XdpLink> xdp_;
  std::vector<TcFilter> tc_;
};

}  // namespace mapgw
