/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * MAP-domain decisions shared by both roles and by the XDP fast path and the
 * TC slow path (RFC 7597 §5, §8): which CE an IPv4 packet belongs to (the BR
 * for every rule, the CE for its FMRs), and whether a packet from a CE
 * passes the §8.1 anti-spoofing check. Nothing here touches the packet or
 * knows which hook runs it.
 *
 * Both return MAPGW_CNT_MAX for "go on", else the counter that names why
 * not (a drop reason, or PASS_NOT_MAPPED for traffic that is not ours).
 */
#ifndef MAPGW_MAP_DOMAIN_H
#define MAPGW_MAP_DOMAIN_H

#include "maps_common.h"
#include "counters.h"
#include "encap.h"
#include "frag.h"
#include "ipv4_checks.h"
#include "map_math.h"
#include "map_port.h"
#include "parsing.h"

#define BR_GO_ON MAPGW_CNT_MAX

/* Where an IPv4 packet goes inside the MAP domain. */
struct br_target {
	struct mapgw_u128 ce;	/* outer destination */
	struct mapgw_u128 br;	/* outer source: the rule's br_addr (a CE stores its
				 * own address there for its FMRs) */
};

static __always_inline enum mapgw_counter map_status_counter(enum mapgw_map_status st)
{
	switch (st) {
	case MAPGW_MAP_EXCLUDED_PORT:
		return MAPGW_CNT_DROP_EXCLUDED_PORT;
	case MAPGW_MAP_WRONG_PSID:
		return MAPGW_CNT_DROP_WRONG_PSID;
	case MAPGW_MAP_ADDR_OUTSIDE_RULE:
		return MAPGW_CNT_DROP_ADDR_OUTSIDE_RULE;
	case MAPGW_MAP_NOT_CE_ADDRESS:
		return MAPGW_CNT_DROP_NOT_CE_ADDRESS;
	default:
		return BR_GO_ON;
	}
}

struct rule_search {
	struct mapgw_rule_lens *lens;
	struct mapgw_br_rule *found;
	__u64 hi, lo; /* the address, host order (IPv4: in lo) */
	__u8 v6;
};

/* @v with only its top @bits (0..64) kept. */
static __always_inline __u64 keep_top64(__u64 v, __u32 bits)
{
	if (bits == 0)
		return 0;
	if (bits >= 64)
		return v;
	return v & (~0ULL << (64 - bits));
}

/* One prefix length per call, longest first; stops at the first rule. */
static long rule_search_cb(__u32 i, void *data)
{
	struct rule_search *s = data;
	struct mapgw_lpm6_key k6 = {};
	struct mapgw_lpm4_key k4 = {};
	__u64 hi, lo;
	__u32 len, a;

	if (s->v6) {
		if (i >= s->lens->n6 || i >= 129)
			return 1;
		len = s->lens->v6[i];
		k6.prefixlen = len;
		hi = bpf_cpu_to_be64(keep_top64(s->hi, len));
		lo = bpf_cpu_to_be64(len > 64 ? keep_top64(s->lo, len - 64) : 0);
		__builtin_memcpy(&k6.addr[0], &hi, 8);
		__builtin_memcpy(&k6.addr[8], &lo, 8);
		s->found = bpf_map_lookup_elem(&mapgw_rules_v6, &k6);
	} else {
		if (i >= s->lens->n4 || i >= 33)
			return 1;
		len = s->lens->v4[i];
		k4.prefixlen = len;
		a = bpf_htonl((__u32)(keep_top64(s->lo << 32, len) >> 32));
		__builtin_memcpy(k4.addr, &a, 4);
		s->found = bpf_map_lookup_elem(&mapgw_rules_v4, &k4);
	}
	return s->found ? 1 : 0;
}

static __always_inline struct mapgw_br_rule *rule_search(struct rule_search *s)
{
	__u32 zero = 0, slash16;

	s->lens = bpf_map_lookup_elem(&mapgw_rule_lens, &zero);
	if (!s->lens)
		return 0;
	if (!s->v6) {
		slash16 = ((__u32)s->lo >> 16) & 0xffff;
		if (!((s->lens->v4_cover[slash16 / 64] >> (slash16 % 64)) & 1))
			return 0;
	}
	bpf_loop(s->v6 ? 129 : 33, rule_search_cb, s, 0);
	return s->found;
}

static __always_inline struct mapgw_br_rule *br_rule_for_ipv4(__be32 addr)
{
	struct rule_search s = {.lo = bpf_ntohl(addr)};

	return rule_search(&s);
}

static __always_inline struct mapgw_br_rule *br_rule_for_ipv6(const struct in6_addr *addr)
{
	struct rule_search s = {.v6 = 1};
	__u64 hi, lo;

	__builtin_memcpy(&hi, &addr->in6_u.u6_addr8[0], 8);
	__builtin_memcpy(&lo, &addr->in6_u.u6_addr8[8], 8);
	s.hi = bpf_be64_to_cpu(hi);
	s.lo = bpf_be64_to_cpu(lo);
	return rule_search(&s);
}

/*
 * Towards a CE: the rule covering the IPv4 destination (longest match), the
 * PSID from the destination port / ICMP identifier / embedded source port
 * (or from the first fragment), and the CE's MAP address. @l4 sits right
 * after the IPv4 header.
 */
static __always_inline enum mapgw_counter br_target_for(struct hdr_cursor *l4, struct iphdr *ip,
							struct br_target *t)
{
	struct mapgw_br_rule *br = br_rule_for_ipv4(ip->daddr);
	const struct mapgw_rule *r;
	__u16 psid = 0, port = 0;
	int rc;

	if (!br)
		return MAPGW_CNT_PASS_NOT_MAPPED;
	r = &br->rule;
	if (r->psid_len > 0) {
		if (ipv4_is_later_fragment(ip)) {
			if (frag_lookup(ip, MAP_PORT_TOWARDS_CE, &psid) < 0)
				return MAPGW_CNT_DROP_FRAG_UNMATCHED;
		} else {
			rc = map_port(l4, ip->protocol, MAP_PORT_TOWARDS_CE, &port);
			if (rc == MAP_PORT_MALFORMED)
				return MAPGW_CNT_DROP_MALFORMED_L4;
			if (rc == MAP_PORT_NONE)
				return MAPGW_CNT_DROP_NO_PORT;
			if (mapgw_port_excluded(r->psid_offset, r->psid_len, port))
				return MAPGW_CNT_DROP_EXCLUDED_PORT;
			psid = mapgw_port_psid(r->psid_offset, r->psid_len, port);
			if ((r->flags & MAPGW_RULE_F_PSID_PROVISIONED) && psid != r->psid)
				return MAPGW_CNT_DROP_WRONG_PSID;
			if (ipv4_is_fragment(ip))
				frag_remember(ip, MAP_PORT_TOWARDS_CE, psid);
		}
	}
	mapgw_rule_ce_address(r, bpf_ntohl(ip->daddr), psid, &t->ce);
	u128_from_in6(&t->br, (const struct in6_addr *)br->br_addr);
	return BR_GO_ON;
}

/*
 * From a CE (RFC 7597 §8.1): the inner source address and port must derive
 * exactly the outer IPv6 source. A later fragment has no port; it is checked
 * with the PSID its first fragment passed with. @to_own_br (a BR): the outer
 * destination must also be the BR address of the CE's own domain, not that
 * of another domain the same BR serves.
 */
static __always_inline enum mapgw_counter br_check_from_ce(struct hdr_cursor *l4,
							   const struct ipv6hdr *ip6,
							   struct iphdr *ip, bool to_own_br)
{
	struct mapgw_br_rule *br = br_rule_for_ipv6(&ip6->saddr);
	const struct mapgw_rule *r;
	struct mapgw_u128 src;
	__u16 port = 0, psid;
	int rc;

	if (!br)
		return MAPGW_CNT_DROP_NO_RULE;
	if (to_own_br && !ipv6_addr_same(&ip6->daddr, br->br_addr))
		return MAPGW_CNT_DROP_OTHER_DOMAIN_BR;
	r = &br->rule;
	u128_from_in6(&src, &ip6->saddr);
	if (r->psid_len > 0) {
		if (ipv4_is_later_fragment(ip)) {
			if (frag_lookup(ip, MAP_PORT_FROM_CE, &psid) < 0)
				return MAPGW_CNT_DROP_FRAG_UNMATCHED;
			/* Any port of that PSID stands for the train. */
			port = mapgw_port_from_index(r->psid_offset, r->psid_len, psid, 0);
		} else {
			rc = map_port(l4, ip->protocol, MAP_PORT_FROM_CE, &port);
			if (rc == MAP_PORT_MALFORMED)
				return MAPGW_CNT_DROP_MALFORMED_L4;
			if (rc == MAP_PORT_NONE)
				return MAPGW_CNT_DROP_NO_PORT;
		}
	}
	rc = map_status_counter(mapgw_rule_check_source(r, &src, bpf_ntohl(ip->saddr), port));
	if (rc != BR_GO_ON)
		return rc;
	if (r->psid_len > 0 && ipv4_is_fragment(ip) && !ipv4_is_later_fragment(ip))
		frag_remember(ip, MAP_PORT_FROM_CE,
			      mapgw_port_psid(r->psid_offset, r->psid_len, port));
	return BR_GO_ON;
}

/*
 * Skips a Destination Options header that holds only the Tunnel
 * Encapsulation Limit option (RFC 2473 §4.1.1) and its padding: what a
 * tunnel entry point may add, and Linux's ip6tnl does by default
 * (encaplimit 4). Returns the header after it, with the cursor past it. Any
 * other @nexthdr, or an options header holding anything else, comes back
 * unchanged with the cursor where it was: tunnel_nexthdr_verdict() counts
 * it. The header is read as the 8 bytes such an encapsulator writes: the
 * option (type 4, length 1, the limit) then a 3-byte PadN (Linux) or three
 * Pad1 — two fixed layouts, not a walk over options.
 */
static __always_inline int tunnel_skip_encap_limit(struct hdr_cursor *c, int nexthdr)
{
	__u8 *h = c->pos;

	if (nexthdr != MAPGW_IPPROTO_DSTOPTS || (void *)(h + 8) > c->end)
		return nexthdr;
	if (h[1] != 0 || h[2] != MAPGW_OPT_TUNNEL_ENCAP_LIMIT || h[3] != 1)
		return nexthdr;
	if (!(h[5] == MAPGW_OPT_PADN && h[6] == 1 && h[7] == 0) &&
	    !(h[5] == MAPGW_OPT_PAD1 && h[6] == MAPGW_OPT_PAD1 && h[7] == MAPGW_OPT_PAD1))
		return nexthdr;
	c->pos = h + 8;
	return h[0];
}

/* The IPv4 packet's room in the IPv6 payload: the payload length less any
 * header skipped before @ip; 0 when the payload length cannot hold them. */
static __always_inline __u32 tunnel_inner_limit(const struct ipv6hdr *ip6, const struct iphdr *ip)
{
	__u32 payload = pkt_len16(ip6->payload_len);
	__u32 skipped = (__u32)((void *)ip - (void *)(ip6 + 1));

	return payload > skipped ? payload - skipped : 0;
}

/* Next header of a packet to one of our tunnel addresses: what to do. */
static __always_inline enum mapgw_counter tunnel_nexthdr_verdict(__u8 nh)
{
	switch (nh) {
	case MAPGW_IPPROTO_IPIP:
		return BR_GO_ON;
	case MAPGW_IPPROTO_FRAGMENT:
		return MAPGW_CNT_DROP_IPV6_FRAGMENT;
	case 0:   /* hop-by-hop */
	case 43:  /* routing */
	case MAPGW_IPPROTO_DSTOPTS: /* other than tunnel_skip_encap_limit() takes */
	case 135: /* mobility */
		return MAPGW_CNT_DROP_IPV6_EXT_HEADER;
	default: /* ICMPv6, management traffic to the node itself */
		return MAPGW_CNT_PASS_LOCAL_IPV6;
	}
}

/* Ports (or ICMP id) folded into 32 bits for the flow label, laid out as in
 * a flow-cache key: destination port in the upper half. */
static __always_inline __u32 flow_ports(struct hdr_cursor *l4, struct iphdr *ip)
{
	struct icmp_query_hdr *q = l4->pos;
	struct l4_ports *p = l4->pos;

	if (ipv4_is_later_fragment(ip))
		return 0;
	if ((ip->protocol == MAPGW_IPPROTO_TCP || ip->protocol == MAPGW_IPPROTO_UDP) &&
	    (void *)(p + 1) <= l4->end)
		return ((__u32)p->dest << 16) | p->source;
	if (ip->protocol == MAPGW_IPPROTO_ICMP && (void *)(q + 1) <= l4->end)
		return q->id;
	return 0;
}

/* IPv4 total length: at least the @hlen-byte header, inside the frame and at
 * most @limit. Returns it, or -1. */
static __always_inline int ipv4_len_within(struct iphdr *ip, void *data_end, __u32 limit,
					   __u32 hlen)
{
	__u32 len = pkt_len16(ip->tot_len);

	if (len < hlen || (void *)ip + len > data_end || len > limit)
		return -1;
	return (int)len;
}

/* IPv4 total length, checked against what the frame actually holds. */
static __always_inline int ipv4_len_ok(struct iphdr *ip, void *data_end, __u32 limit)
{
	return ipv4_len_within(ip, data_end, limit, (__u32)ip->ihl * 4);
}

/* The fast paths' IPv4 check: version 4 without options, a header checksum
 * that verifies (anything else takes a full path, which says why) and its
 * total length. Returns it, or -1. */
static __always_inline int ipv4_plain_len(struct iphdr *ip, void *data_end, __u32 limit)
{
	if ((void *)(ip + 1) > data_end || *(__u8 *)ip != 0x45 || !ipv4_csum_ok(ip))
		return -1;
	return ipv4_len_within(ip, data_end, limit, sizeof(*ip));
}

#endif /* MAPGW_MAP_DOMAIN_H */
