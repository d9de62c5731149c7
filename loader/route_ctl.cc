#include "loader/route_ctl.h"

#include <bpf/bpf.h>

#include <cerrno>

#include "mapgw_abi.h"

namespace mapgw {
namespace {

Status write_epoch(int fd, uint32_t epoch) {
  const uint32_t key = 0;
  mapgw_route_ctl ctl{};
  ctl.epoch = epoch;
  if (bpf_map_update_elem(fd, &key, &ctl, BPF_ANY) != 0) return make_error("route cache switch", errno);
  return Status::Ok();
}

uint32_t next_epoch(uint32_t e) { return e + 1 == 0 ? 1 : e + 1; }

}  // namespace

Result<uint32_t> route_cache_epoch(int fd) {
  const uint32_t key = 0;
  mapgw_route_ctl ctl{};
  if (bpf_map_lookup_elem(fd, &key, &ctl) != 0) return make_error("route cache switch", errno);
  return ctl.epoch;
}

Status route_cache_enable(int fd, bool on) {
  auto e = route_cache_epoch(fd);
  if (!e) return e.error();
  return write_epoch(fd, on ? next_epoch(*e) : 0);
}

Status route_cache_invalidate(int fd) {
  auto e = route_cache_epoch(fd);
  if (!e) return e.error();
  if (*e == 0) return Status::Ok();
  return write_epoch(fd, next_epoch(*e));
}

}  // namespace mapgw
