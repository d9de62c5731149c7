#include "agent/daemon/route_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "loader/route_ctl.h"

namespace mapgw {

Result<RouteWatch> RouteWatch::start(int ctl_fd, bool enabled) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) return make_error("netlink socket for the route cache", errno);
  RouteWatch w(ctl_fd, sock);
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  if (bind(sock, reinterpret_cast<sockaddr*>(&nl), sizeof nl) != 0) {
    return make_error("binding the route cache's netlink socket", errno);
  }
  for (int group : {RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
                    RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE}) {
    if (setsockopt(sock, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
      return make_error("joining rtnetlink group " + std::to_string(group), errno);
    }
  }
  // A fresh epoch either way: nothing cached before this start is used.
  if (auto st = route_cache_enable(ctl_fd, enabled); !st) return st.error();
  w.enabled_ = enabled;
  return w;
}

Status RouteWatch::set_enabled(bool on) {
  if (on == enabled_) return Status::Ok();
  if (auto st = route_cache_enable(ctl_fd_, on); !st) return st;
  enabled_ = on;
  return Status::Ok();
}

void RouteWatch::on_readable() {
  char buf[16384];
  bool changed = false;
  for (;;) {
    ssize_t n = recv(sock_, buf, sizeof buf, 0);
    if (n > 0) {
      changed = true;
      continue;
    }
    if (n < 0 && errno == ENOBUFS) {  // notifications were lost: assume a change
      changed = true;
      continue;
    }
    break;
  }
  if (changed && enabled_) invalidate();
}

void RouteWatch::invalidate() {
  if (auto st = route_cache_invalidate(ctl_fd_); !st) {
    ++errors_;
    spdlog::warn("route cache: {}", st.error().describe());
    return;
  }
  ++invalidations_;
}

nlohmann::json RouteWatch::status() const {
  auto epoch = route_cache_epoch(ctl_fd_);
  return {{"enabled", enabled_},
          {"epoch", epoch ? *epoch : 0},
          {"invalidations", invalidations_},
          {"errors", errors_}};
}

RouteWatch::RouteWatch(RouteWatch&& o) noexcept
    : ctl_fd_(o.ctl_fd_), sock_(std::exchange(o.sock_, -1)), enabled_(o.enabled_),
      invalidations_(o.invalidations_), errors_(o.errors_) {}

RouteWatch& RouteWatch::operator=(RouteWatch&& o) noexcept {
  if (this != &o) {
    if (sock_ >= 0) close(sock_);
    ctl_fd_ = o.ctl_fd_;
    sock_ = std::exchange(o.sock_, -1);
    enabled_ = o.enabled_;
    invalidations_ = o.invalidations_;
    errors_ = o.errors_;
  }
  return *this;
}

RouteWatch::~RouteWatch() {
  if (sock_ >= 0) close(sock_);
}

}  // namespace mapgw
