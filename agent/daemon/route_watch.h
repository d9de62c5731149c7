// Keeps the data plane's route cache (bpf/route_cache.h) honest: every
// rtnetlink change that can alter a FIB answer — routes, neighbours,
// addresses, links, ip rules — moves the cache's epoch, so no packet uses an
// answer from before the change once the agent has read it. One wake-up
// drains the socket whole: a burst of changes costs one move. A lost
// notification (receive buffer overrun) moves it too; the cache's 1 s
// lifetime covers the rest (and a data plane left running without agent).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "loader/result.h"

namespace mapgw {

class RouteWatch {
 public:
  // @ctl_fd: the data plane's mapgw_route_ctl map. The socket is open
  // either way, so a reload can turn the cache on and off.
  static Result<RouteWatch> start(int ctl_fd, bool enabled);

  Status set_enabled(bool on);
  int fd() const { return sock_; }
  void on_readable();
  nlohmann::json status() const;
  uint64_t invalidations() const { return invalidations_; }

  RouteWatch(RouteWatch&& o) noexcept;
  RouteWatch& operator=(RouteWatch&& o) noexcept;
  RouteWatch(const RouteWatch&) = delete;
  RouteWatch& operator=(const RouteWatch&) = delete;
  ~RouteWatch();

 private:
  RouteWatch(int ctl_fd, int sock) : ctl_fd_(ctl_fd), sock_(sock) {}
  void invalidate();

  int ctl_fd_ = -1;
  int sock_ = -1;
  bool enabled_ = false;
  uint64_t invalidations_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace mapgw
