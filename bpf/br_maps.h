/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps only the BR uses, on top of the shared ones: its own addresses and
 * its run-time settings.
 */
#ifndef MAPGW_BR_MAPS_H
#define MAPGW_BR_MAPS_H

#include "flow_cache.h"
#include "maps_common.h"

#ifndef MAPGW_MAX_BR_ADDRS
#define MAPGW_MAX_BR_ADDRS 64
#endif

/* BR addresses we accept encapsulated traffic on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAPGW_MAX_BR_ADDRS);
	__type(key, struct in6_addr);
	__type(value, __u32);
} mapgw_br_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mapgw_br_config);
} mapgw_br_config SEC(".maps");

/* The flow cache (flow_cache.h), both directions: sets of four 80-byte entries
 * (32768 sets: 10 MiB per CPU), a part per CPU (flow_set_index); the loader
 * sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* page-aligned values (flow_set_index) */
	__uint(max_entries, MAPGW_FLOW_CACHE_SETS);
	__type(key, __u32);
	__type(value, struct br_flow_entry);
} mapgw_br_flow_cache SEC(".maps");

/* What a fast path's miss leaves for the fill (flow_fast_missed). */
struct br_scratch {
	struct flow_miss miss;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_scratch);
} mapgw_br_scratch SEC(".maps");

#endif /* MAPGW_BR_MAPS_H */
