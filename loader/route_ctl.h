// The switch of the data plane's route cache (bpf/route_cache.h): entries
// are used only while the epoch they were filled in is current.
#pragma once

#include "loader/result.h"

namespace mapgw {

// On: a fresh epoch (entries from before, e.g. of a previous run whose
// pinned maps were adopted, are never used). Off: every packet asks the FIB.
Status route_cache_enable(int ctl_fd, bool on);

// After a route, neighbour, address, link or rule change: a fresh epoch if
// the cache is on, nothing if it is off.
Status route_cache_invalidate(int ctl_fd);

// The current epoch; 0 when off.
Result<uint32_t> route_cache_epoch(int ctl_fd);

}  // namespace mapgw
