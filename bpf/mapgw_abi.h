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
	X(DROP_MALFORMED_L4, 7, "drop_malformed_l4")                 \
	X(BR_ENCAP, 8, "br_encap")                                   \
	X(BR_DECAP, 9, "br_decap")                                   \
	X(BR_HAIRPIN, 10, "br_hairpin")                              \
	X(BR_PTB_TRANSLATED, 11, "br_ptb_translated")                \
	X(PASS_NOT_MAPPED, 12, "pass_not_mapped")                    \
	X(PASS_NOT_BR, 13, "pass_not_br")                            \
	X(PASS_LOCAL_IPV6, 14, "pass_local_ipv6")                    \
	X(PUNT_TTL, 15, "punt_ttl")                                  \
	X(PUNT_NO_NEIGH, 16, "punt_no_neigh")                        \
	X(PUNT_FRAG_NEEDED, 17, "punt_frag_needed")                  \
	X(PUNT_NO_DEVMAP, 18, "punt_no_devmap")                      \
	X(PUNT_FIB_OTHER, 19, "punt_fib_other")                      \
	X(DROP_EXCLUDED_PORT, 20, "drop_excluded_port")              \
	X(DROP_WRONG_PSID, 21, "drop_wrong_psid")                    \
	X(DROP_ADDR_OUTSIDE_RULE, 22, "drop_addr_outside_rule")      \
	X(DROP_NOT_CE_ADDRESS, 23, "drop_not_ce_address")            \
	X(DROP_NO_RULE, 24, "drop_no_rule")                          \
	X(DROP_NO_PORT, 25, "drop_no_port")                          \
	X(DROP_FRAG_UNMATCHED, 26, "drop_frag_unmatched")            \
	X(DROP_IPV6_FRAGMENT, 27, "drop_ipv6_fragment")              \
	X(DROP_IPV6_EXT_HEADER, 28, "drop_ipv6_ext_header")          \
	X(DROP_FIB_UNREACHABLE, 29, "drop_fib_unreachable")          \
	X(DROP_ADJUST_FAILED, 30, "drop_adjust_failed")              \
	X(TC_ENCAP, 31, "tc_encap")                                  \
	X(TC_DECAP, 32, "tc_decap")                                  \
	X(DROP_ICMP_UNMATCHED, 33, "drop_icmp_unmatched")            \
	X(DROP_INNER_LENGTH, 34, "drop_inner_length")                \
	X(DROP_ICMP_NO_ROUTE, 35, "drop_icmp_no_route")

enum mapgw_counter {
#define MAPGW_COUNTER_ENUM(name, num, label) MAPGW_CNT_##name = num,
	MAPGW_COUNTER_LIST(MAPGW_COUNTER_ENUM)
#undef MAPGW_COUNTER_ENUM
	MAPGW_CNT_MAX = 64, /* array size; room to append without resizing pins */
};

/* Rules one data plane holds (the LPM tries have room for two sets). */
#define MAPGW_RULE_LIMIT 65536

/* One counter slot: packets and bytes. */
struct mapgw_counter_val {
	__u64 packets;
	__u64 bytes;
};

/* LPM trie keys: prefixlen first, address in network order (kernel ABI). */
struct mapgw_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct mapgw_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* A BR rule: the mapping rule plus the BR address of its domain, which is
 * the outer source towards the domain's CEs. */
struct mapgw_br_rule {
	struct mapgw_rule rule;
	__u8 br_addr[16];
};

/* Fragment tracking: later fragments carry no ports, so the first
 * fragment's PSID is remembered under (src, dst, IP id, protocol). */
struct mapgw_frag_key {
	__u32 saddr; /* network order */
	__u32 daddr;
	__u16 id;
	__u8 proto;
	__u8 dir; /* enum map_port_dir */
};

struct mapgw_frag_val {
	__u64 expires_ns;
	__u16 psid;
	__u16 pad[3];
};

/* Run-time settings the agent may change without reloading (array[0]). */
struct mapgw_br_config {
	__u32 icmp_src_ipv4; /* network order; source of ICMPv4 errors we make */
	__u32 flags;
};

#ifdef __cplusplus
static_assert(sizeof(struct mapgw_br_rule) == 48, "br rule ABI");
static_assert(sizeof(struct mapgw_frag_key) == 12, "frag key ABI");
static_assert(sizeof(struct mapgw_lpm6_key) == 20, "lpm6 ABI");
static_assert(sizeof(struct mapgw_counter_val) == 16, "counter ABI");
static_assert(sizeof(struct mapgw_rule) == 32, "rule ABI");
#else
_Static_assert(sizeof(struct mapgw_counter_val) == 16, "counter ABI");
_Static_assert(sizeof(struct mapgw_rule) == 32, "rule ABI");
#endif

#endif /* MAPGW_ABI_H */
