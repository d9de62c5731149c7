/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel/user ABI: every struct and number that crosses between the BPF
 * programs and the C++ agent. Included from BPF C and from C++; sizes are
 * pinned with static asserts so a layout change fails the build, not a run.
 *
 * Counters are one per-CPU array indexed by a stable number. The X-macro
 * below is the only list of them: numbers are never reused or renumbered,
 * and the string is the metric label the agent exports.
 */
#ifndef MAPGW_ABI_H
#define MAPGW_ABI_H

#include "mapgw_types.h"
#include "map_math.h"

/* X(ENUM_SUFFIX, number, "label") */
#define MAPGW_COUNTER_LIST(X)                            \
	X(RX_NON_IP, 0, "rx_non_ip")                     \
	X(RX_IPV4, 1, "rx_ipv4")                         \
	X(RX_IPV6, 2, "rx_ipv6")                         \
	X(RX_IPV4_IN_IPV6, 3, "rx_ipv4_in_ipv6")         \
	X(DROP_MALFORMED_L2, 4, "drop_malformed_l2")     \
	X(DROP_MALFORMED_IPV4, 5, "drop_malformed_ipv4") \
	X(DROP_MALFORMED_IPV6, 6, "drop_malformed_ipv6") \
	X(DROP_MALFORMED_L4, 7, "drop_malformed_l4")

enum mapgw_counter {
#define MAPGW_COUNTER_ENUM(name, num, label) MAPGW_CNT_##name = num,
	MAPGW_COUNTER_LIST(MAPGW_COUNTER_ENUM)
#undef MAPGW_COUNTER_ENUM
	MAPGW_CNT_MAX = 64, /* array size; room to append without resizing pins */
};

/* One counter slot: packets and bytes. */
struct mapgw_counter_val {
	__u64 packets;
	__u64 bytes;
};

#ifdef __cplusplus
static_assert(sizeof(struct mapgw_counter_val) == 16, "counter ABI");
static_assert(sizeof(struct mapgw_rule) == 32, "rule ABI");
#else
_Static_assert(sizeof(struct mapgw_counter_val) == 16, "counter ABI");
_Static_assert(sizeof(struct mapgw_rule) == 32, "rule ABI");
#endif

#endif /* MAPGW_ABI_H */
