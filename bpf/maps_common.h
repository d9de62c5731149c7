/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps both roles use: the rule tables (IPv4 destination -> rule, IPv6
 * source -> rule, longest prefix first), fragment tracking and the egress devices for
 * XDP_REDIRECT. The agent changes them at run time without touching
 * programs. Sizes are macros (STYLE.md): change them at build time.
 */
#ifndef MAPGW_MAPS_COMMON_H
#define MAPGW_MAPS_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "mapgw_abi.h"

#define MAPGW_MAX_RULES MAPGW_RULE_LIMIT
#ifndef MAPGW_MAX_FRAGS
#define MAPGW_MAX_FRAGS 65536
#endif
#ifndef MAPGW_MAX_PORTS
#define MAPGW_MAX_PORTS 64
#endif

/* Twice the rule limit: a replacement inserts the whole new set before it
 * removes the old one, so no lookup misses a rule present in both. Not
 * preallocated, so the headroom costs nothing until used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MAPGW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mapgw_lpm4_key);
	__type(value, struct mapgw_br_rule);
} mapgw_rules_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MAPGW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mapgw_lpm6_key);
	__type(value, struct mapgw_br_rule);
} mapgw_rules_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mapgw_rule_lens);
} mapgw_rule_lens SEC(".maps");

/* LRU is right here: an entry is one fragment train, nothing pairs with it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAPGW_MAX_FRAGS);
	__type(key, struct mapgw_frag_key);
	__type(value, struct mapgw_frag_val);
} mapgw_frags SEC(".maps");

/* Egress devices for XDP_REDIRECT, keyed by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, MAPGW_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} mapgw_tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct mapgw_own_mac);
} mapgw_own_macs SEC(".maps");

/*
 * A frame the XDP paths leave alone: VLAN-tagged (a tag we were not told
 * about: the kernel delivers it to its VLAN device or drops it; stripping
 * it here would bridge VLANs), or not sent to this interface's own address
 * (broadcast, multicast, another host's seen in promiscuous mode or
 * flooded: the kernel delivers or drops those, it never routes them).
 * Returns the PASS counter, or 0. @side: MAPGW_SIDE_*.
 */
static __always_inline enum mapgw_counter eth_not_ours(const struct ethhdr *eth, const void *l3,
						      __u32 side)
{
	const struct mapgw_own_mac *m;

	if (l3 != (const void *)(eth + 1))
		return MAPGW_CNT_PASS_VLAN_TAGGED;
	m = bpf_map_lookup_elem(&mapgw_own_macs, &side);
	if (!m || !m->set)
		return 0;
	if (*(const __u32 *)eth->h_dest != *(const __u32 *)m->addr ||
	    *(const __u16 *)&eth->h_dest[4] != *(const __u16 *)&m->addr[4])
		return MAPGW_CNT_PASS_NOT_OUR_MAC;
	return 0;
}

#endif /* MAPGW_MAPS_COMMON_H */
