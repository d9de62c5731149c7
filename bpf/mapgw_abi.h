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
	X(DROP_ICMP_NO_ROUTE, 35, "drop_icmp_no_route")                \
	X(CE_OUT, 36, "ce_out")                                        \
	X(CE_IN, 37, "ce_in")                                          \
	X(CE_HAIRPIN, 38, "ce_hairpin")                                \
	X(CE_FMR_OUT, 39, "ce_fmr_out")                                \
	X(NAT_SESSION_CREATED, 40, "nat_session_created")              \
	X(NAT_BINDING_CREATED, 41, "nat_binding_created")              \
	X(NAT_PORT_REUSED, 42, "nat_port_reused")                      \
	X(NAT_PORT_KEPT, 43, "nat_port_kept")                          \
	X(NAT_MSS_CLAMPED, 44, "nat_mss_clamped")                      \
	X(DROP_NAT_EXHAUSTED, 45, "drop_nat_exhausted")                \
	X(DROP_NAT_HOST_LIMIT, 46, "drop_nat_host_limit")              \
	X(DROP_NAT_NO_MAPPING, 47, "drop_nat_no_mapping")              \
	X(DROP_NAT_FILTERED, 48, "drop_nat_filtered")                  \
	X(DROP_NAT_PROTOCOL, 49, "drop_nat_protocol")                  \
	X(DROP_NAT_RACE, 50, "drop_nat_race")                          \
	X(DROP_NOT_FROM_BR, 51, "drop_not_from_br")                    \
	X(DROP_NOT_OWN_ADDRESS, 52, "drop_not_own_address")            \
	X(DROP_NOT_OWN_PORT, 53, "drop_not_own_port")                  \
	X(DROP_PACKET_FILTER, 54, "drop_packet_filter")                \
	X(DROP_NOT_PROVISIONED, 55, "drop_not_provisioned")            \
	X(CE_PTB_TRANSLATED, 56, "ce_ptb_translated")                  \
	X(CE_ICMP_ERROR_IN, 57, "ce_icmp_error_in")                    \
	X(CE_ICMP_ERROR_OUT, 58, "ce_icmp_error_out")                  \
	X(NATLOG_WRITTEN, 59, "natlog_events")                         \
	X(NATLOG_RATE_LIMITED, 60, "natlog_rate_limited")              \
	X(NATLOG_LOST, 61, "natlog_lost")                              \
	X(FLOW_CACHE_FILL, 62, "flow_cache_fills")                   \
	X(SPREAD_HANDOFF, 63, "spread_handoff")                        \
	X(DROP_SPREAD_QUEUE_FULL, 64, "drop_spread_queue_full")        \
	X(DROP_OTHER_DOMAIN_BR, 65, "drop_other_domain_br")          \
	X(FLOW_CACHE_FULL, 66, "flow_cache_full")                      \
	X(DROP_NAT_TABLE_FULL, 67, "drop_nat_table_full")              \
	X(DROP_NAT_SESSION_EXISTS, 68, "drop_nat_session_exists")      \
	X(DROP_WAN_PLAIN_IPV4, 69, "drop_wan_plain_ipv4")              \
	X(DROP_IPV4_CHECKSUM, 70, "drop_ipv4_checksum")                \
	X(DROP_MARTIAN_SOURCE, 71, "drop_martian_source")              \
	X(PUNT_IPV4_OPTIONS, 72, "punt_ipv4_options")                  \
	X(DROP_SPOOFED_SOURCE, 73, "drop_spoofed_source")              \
	X(DROP_PTB_BAD_MTU, 74, "drop_ptb_bad_mtu")                    \
	X(PASS_VLAN_TAGGED, 75, "pass_vlan_tagged")                    \
	X(PASS_NOT_OUR_MAC, 76, "pass_not_our_mac")                    \
	X(DROP_NAT_HOST_PORTS, 77, "drop_nat_host_ports")

enum mapgw_counter {
#define MAPGW_COUNTER_ENUM(name, num, label) MAPGW_CNT_##name = num,
	MAPGW_COUNTER_LIST(MAPGW_COUNTER_ENUM)
#undef MAPGW_COUNTER_ENUM
	MAPGW_CNT_MAX = 128, /* array size; room to append without resizing pins */
};

/* CPUs receive spreading can use (bpf/spread.h, config `spread_cpus`). */
#define MAPGW_MAX_SPREAD_CPUS 256

/* Rules one data plane holds (the LPM tries have room for two sets). */
#define MAPGW_RULE_LIMIT 65536

/* One counter slot: packets and bytes. */
struct mapgw_counter_val {
	__u64 packets;
	__u64 bytes;
};

/* LPM trie keys: prefixlen first, address in network order (kernel ABI). */
/* Rule keys: a prefix, host bits zero. The rule tables are hash maps
 * searched once per distinct prefix length, longest first (mapgw_rule_lens):
 * one lookup for the usual single length, where an LPM trie of 64 k rules
 * takes ~16 dependent node loads. */
struct mapgw_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct mapgw_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * The distinct prefix lengths in the rule tables, longest first (array[0]),
 * and which IPv4 /16s any rule overlaps (bit n of v4_cover: a.b.0.0/16 with
 * n = a * 256 + b). A destination in no covered /16 is no rule's without a
 * hash lookup: a CE's Internet-bound traffic, a BR's non-MAP traffic.
 */
#define MAPGW_V4_COVER_WORDS (65536 / 64)
struct mapgw_rule_lens {
	__u8 n4;
	__u8 n6;
	__u8 v4[33];
	__u8 v6[129];
	__u8 pad[4];
	__u64 v4_cover[MAPGW_V4_COVER_WORDS];
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
	__u16 psid;  /* the CE's PSID (MAP direction) */
	__u16 pad;
	__u32 addr;  /* NAT: the inside address the first fragment went to */
};

/* The link-layer address of each of a role's two interfaces (index 0: the
 * CE's LAN or the BR's IPv4 side, 1: the CE's WAN or the BR's IPv6 side),
 * written with the egress ports. Frames to any other address are left to
 * the kernel. */
#define MAPGW_SIDE_FIRST 0
#define MAPGW_SIDE_SECOND 1
struct mapgw_own_mac {
	__u8 addr[6];
	__u16 set; /* 0: not written yet, no check */
};

/* Run-time settings the agent may change without reloading (array[0]). */
struct mapgw_br_config {
	__u32 icmp_src_ipv4; /* network order; source of ICMPv4 errors we make */
	__u32 flags;
};

/* ---- CE NAT (NAT44 confined to the PSID's port set) ------------------- */

/* Protocols cross the NAT as themselves; ICMP queries use the identifier
 * as the port. */
enum mapgw_filtering {
	MAPGW_FILTER_ENDPOINT_INDEPENDENT = 0, /* RFC 4787 EIF */
	MAPGW_FILTER_ADDRESS_DEPENDENT = 1,    /* ADF */
	MAPGW_FILTER_ADDRESS_PORT_DEPENDENT = 2, /* APDF */
};

/* TCP session states (RFC 7857 §2.1 style: enough to pick a timeout). */
enum mapgw_tcp_state {
	MAPGW_TCP_NONE = 0,	  /* not TCP */
	MAPGW_TCP_SYN_OUT = 1,	  /* SYN from inside seen */
	MAPGW_TCP_SYN_IN = 2,	  /* SYN from outside seen */
	MAPGW_TCP_ESTABLISHED = 3,
	MAPGW_TCP_FIN_OUT = 4,
	MAPGW_TCP_FIN_IN = 5,
	MAPGW_TCP_CLOSING = 6,	  /* FIN both ways, or RST: transitory */
};

#define MAPGW_NAT_F_STATIC 0x01	   /* static NAPT: never expires */
#define MAPGW_RSESS_F_ADDR_ONLY 0x01 /* ADF marker: remote address seen */

/* Endpoint-independent mapping: inside endpoint -> external port. */
struct mapgw_nat_bind_key {
	__u32 addr; /* network order */
	__u16 port; /* network order */
	__u8 proto;
	__u8 pad;
};

struct mapgw_nat_bind {
	__u64 last_seen_ns;
	__u16 ext_port; /* network order */
	__u8 flags;
	__u8 pad[5];
};

/* Who owns an external port: claimed with BPF_NOEXIST, so two CPUs can
 * never hand out the same port. */
struct mapgw_nat_port_key {
	__u16 ext_port; /* network order */
	__u8 proto;
	__u8 pad;
};

struct mapgw_nat_port {
	__u64 last_seen_ns;
	__u32 in_addr;
	__u16 in_port;
	__u8 flags;
	__u8 pad;
};

/* A session, keyed from the inside. */
struct mapgw_nat_sess_key {
	__u32 in_addr;
	__u32 rem_addr;
	__u16 in_port;
	__u16 rem_port;
	__u8 proto;
	__u8 pad[3];
};

struct mapgw_nat_sess {
	__u64 last_seen_ns;
	__u64 created_ns;
	__u16 ext_port;
	__u8 tcp_state;
	__u8 flags;
	__u32 pad;
};

/* The same session keyed from the outside (and ADF markers, rem_port 0
 * with MAPGW_RSESS_F_ADDR_ONLY). */
struct mapgw_nat_rsess_key {
	__u32 rem_addr;
	__u16 ext_port;
	__u16 rem_port;
	__u8 proto;
	__u8 flags;
	__u16 pad;
};

struct mapgw_nat_rsess {
	__u32 in_addr;
	__u16 in_port;
	/* (NAT clock >> 30) & 0xffff: the ~1.07 s tick in which inbound traffic
	 * last refreshed the session; inbound packets look the session up once
	 * a tick. Wraps after 19 h, far beyond any session timeout. */
	__u16 touched;
};

/* Sessions per inside host: BPF adds to `created`, the sweeper to its own
 * `deleted` map; live = created - deleted, and neither side races. */
struct mapgw_nat_host_count {
	__u64 count;
};

/* Bindings are counted per LAN host and protocol: each protocol has its
 * own port set. */
struct mapgw_nat_host_proto {
	__u32 host; /* network order */
	__u8 proto;
	__u8 pad[3];
};

/* NAT settings beside mapgw_ce_config (array[0]; the agent writes it). */
struct mapgw_nat_policy {
	__u32 host_port_limit; /* external ports (bindings) one LAN host may hold; 0: no limit */
	__u32 reserved[3];
};

/* Events the agent reacts to (ring buffer). */
enum mapgw_event_type {
	MAPGW_EVENT_PORTS_EXHAUSTED = 1, /* run an urgent sweep */
};

struct mapgw_event {
	__u32 type;
	__u32 in_addr;
	__u8 proto;
	__u8 pad[7];
};

/* NAT log (book §5.3.2, RFC 6302): what was mapped to what, and when. */
#define MAPGW_CE_F_NATLOG_BINDINGS 0x01 /* log binding creation */
#define MAPGW_CE_F_NATLOG_SESSIONS 0x02 /* log session creation too */

enum mapgw_natlog_type {
	MAPGW_NATLOG_BINDING_CREATE = 1,
	MAPGW_NATLOG_SESSION_CREATE = 2,
	MAPGW_NATLOG_BINDING_DELETE = 3, /* written by the sweeper */
	MAPGW_NATLOG_SESSION_DELETE = 4,
};

struct mapgw_natlog_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u32 in_addr;
	__u32 rem_addr; /* 0 for bindings */
	__u16 in_port;
	__u16 ext_port;
	__u16 rem_port;
	__u8 type;
	__u8 proto;
};

/* What the CE data plane needs to know about itself (array[0]). */
struct mapgw_ce_config {
	struct mapgw_u128 ce_addr; /* own MAP IPv6 address */
	struct mapgw_u128 br_addr; /* BR (DMR) */
	__u32 ipv4;		   /* own public IPv4, network order; 0: none */
	__u32 icmp_src;		   /* CE's LAN address, for ICMP it generates */
	__u16 psid;
	__u8 psid_len;
	__u8 psid_offset;
	__u8 filtering;		   /* enum mapgw_filtering */
	__u8 flags;
	__u16 tunnel_mtu;	   /* WAN MTU - 40, for MSS clamping */
	__u32 lan_ifindex;
	__u32 host_session_limit;  /* 0: unlimited */
	__u32 slow_ifindex;	   /* the kernel's route into MAP-E (mapgw0) */
	__u32 natlog_rate;	   /* NAT log events per second per CPU */
};

/* An IPv4 packet filter rule (LAN -> WAN), first match wins. */
struct mapgw_filter_rule {
	__u32 src;	/* network order */
	__u32 src_mask;
	__u32 dst;
	__u32 dst_mask;
	__u16 dport_lo; /* host order; 0-65535 = any */
	__u16 dport_hi;
	__u8 proto;	/* 0 = any */
	__u8 action;	/* 0 = allow, 1 = deny */
	__u8 used;
	__u8 pad;
};

#define MAPGW_MAX_FILTER_RULES 32

/*
 * The route cache's switch (array[0]). The agent moves `epoch` on every
 * route, neighbour, address, link or rule change it hears of; entries of an
 * older epoch are not used. Epoch 0 turns the cache off.
 */
/* Flow cache sets per CPU (bpf/flow_cache.h): the default, and the range
 * the loader accepts (powers of two; config `flow_cache_sets`). The default
 * keeps 10 k active flows mostly alone in their set's first way (two lab
 * probes, 10 k vs 1 k active flows: 0.89 and 0.78 over 32768 sets, 0.76
 * and 0.73 over 8192). */
#define MAPGW_FLOW_CACHE_SETS 32768
#define MAPGW_FLOW_CACHE_SETS_MIN 256
#define MAPGW_FLOW_CACHE_SETS_MAX 1048576
#define MAPGW_FLOW_CACHE_WAYS 4 /* entries per set */

struct mapgw_route_ctl {
	__u32 epoch;
	__u32 pad;
};

#ifdef __cplusplus
static_assert(sizeof(struct mapgw_nat_sess_key) == 16, "nat ABI");
static_assert(sizeof(struct mapgw_natlog_event) == 24, "natlog ABI");
static_assert(sizeof(struct mapgw_nat_rsess_key) == 12, "nat ABI");
static_assert(sizeof(struct mapgw_ce_config) == 64, "ce config ABI");
static_assert(sizeof(struct mapgw_own_mac) == 8, "own mac ABI");
static_assert(sizeof(struct mapgw_nat_policy) == 16, "nat policy ABI");
static_assert(sizeof(struct mapgw_nat_host_proto) == 8, "host proto ABI");
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
