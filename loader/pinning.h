// Pinned state for lossless restarts. Every map of a data plane is pinned
// under <bpffs>/mapgw/<instance>/ before load, so a restarted daemon reuses
// the same maps (NAT sessions, counters, rules) and the XDP links pinned
// there keep the programs attached while no daemon runs. A restart loads
// the new programs against the reused maps and swaps them into the links
// atomically (bpf_link_update): no packet sees a half-configured gateway.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "loader/result.h"

namespace mapgw {

// "<bpffs>/mapgw/<instance>", created (mode 0700) if missing; fails clearly
// when <bpffs> is not a BPF file system, or when either directory is not
// one only this daemon's user controls (check_private_dir).
Result<std::string> pin_dir(const std::string& bpffs, const std::string& instance);

// Is @dir a real directory (not a link) owned by our effective user and
// writable by no one else? Pins and logs live only in such directories:
// where others may write, a local user could make or rename them first.
Status check_private_dir(const std::string& dir);

// Pin path for every non-internal map of @obj (call between open and load).
Status set_map_pins(bpf_object* obj, const std::string& dir);

// Before load: every map already pinned at its pin path must match what
// this load asks for (type, key and value size, max_entries, flags), the
// check libbpf makes before reusing it. Names each one that does not, so a
// mismatch is told apart from a verifier rejection.
Status check_pinned_maps(bpf_object* obj);

// Remove everything pinned in @dir, then the directory.
void remove_pins(const std::string& dir);

}  // namespace mapgw
