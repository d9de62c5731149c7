/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-CPU counter array shared by every mapgw program. Each program
 * that includes this header references the same map by name, and the
 * loader pins/reuses it so all attach points count into one place.
 */
#ifndef MAPGW_COUNTERS_H
#define MAPGW_COUNTERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "mapgw_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAPGW_CNT_MAX);
	__type(key, __u32);
	__type(value, struct mapgw_counter_val);
} mapgw_counters SEC(".maps");

/* @packets packets of @bytes bytes in all, as @idx. */
static __always_inline void count_many(enum mapgw_counter idx, __u64 packets, __u64 bytes)
{
	__u32 key = idx;
	struct mapgw_counter_val *v = bpf_map_lookup_elem(&mapgw_counters, &key);

	if (v) {
		v->packets += packets;
		v->bytes += bytes;
	}
}

static __always_inline void count(enum mapgw_counter idx, __u64 bytes)
{
	count_many(idx, 1, bytes);
}

#endif /* MAPGW_COUNTERS_H */
