// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * MAP-E border relay (RFC 7597 §8). Four entry points, one per attach point;
 * the decisions live in br.h so the fast and slow paths cannot disagree.
 *
 *   mapgw_br_v4       XDP, IPv4 side: IPv4 -> CE (encapsulate, redirect).
 *   mapgw_br_v6       XDP, IPv6 side: CE -> IPv4 (check, decapsulate,
 *                     redirect), CE -> CE hairpin, ICMPv6 PTB translation.
 *                     With spreading on, mapgw_br_v6fan takes its
 *                     place and hands each frame to its inner flow's CPU,
 *                     where mapgw_br_v6cpu (cpumap) does the same work.
 *   mapgw_br_tc_v6    TC ingress, IPv6 side: slow path of mapgw_br_v6. It
 *                     checks and decapsulates, then lets the kernel forward
 *                     the IPv4 packet (neighbours, fragmentation, ICMP).
 *   mapgw_br_tc_encap TC egress of the mapgw0 device, the kernel's route to
 *                     the MAP domain: slow path of mapgw_br_v4 for what the
 *                     kernel had to handle first (TTL, MTU, neighbours,
 *                     fragments, the router's own traffic). Encapsulates and
 *                     sends with bpf_redirect_neigh().
 *
 * The XDP programs punt (XDP_PASS, counted as punt_*) whatever needs the
 * kernel; nothing they cannot finish is dropped silently. Both XDP programs
 * ask the flow cache first (br_v4_fast, br_v6_fast).
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "br.h"
#include "checksum.h"
#include "fib.h"
#include "xdp_common.h"
#include "icmp_ptb.h"
#include "spread.h"


/* ---- XDP, IPv4 side ----------------------------------------------------- */

/* The flow caches (flow_cache.h): the probes inlined, the fills global
 * functions checked once on their own (see ce.bpf.c); a miss leaves its key
 * in the scratch map for the fill. */
static __always_inline struct br_scratch *br_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mapgw_br_scratch, &zero);
}

static __always_inline int br_flow_missed(struct flow_words w, __u32 epoch)
{
	struct br_scratch *sc = br_scratch();

	return flow_fast_missed(sc ? &sc->miss : 0, w, epoch);
}

/* After the full path of a packet the probe keyed (FLOW_FAST_MISSED): the slot
 * for the key it left, its head filled with the next hop. */
static __always_inline struct br_flow_entry *br_flow_claim(const struct bpf_fib_lookup *fib,
							   __u32 len)
{
	struct br_scratch *sc = br_scratch();

	if (!sc)
		return 0;
	return flow_cache_claim(&mapgw_br_flow_cache, &sc->miss, (__u16)len, fib);
}

/* A TCP/UDP packet, not a fragment, whose inner 5-tuple the encapsulation
 * cache knows: encapsulated and sent. Returns the verdict, or FLOW_FAST_*:
 * take the full path. */
static __always_inline int br_v4_fast(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct br_flow_entry *fe;
	struct flow_words w;
	struct l4_ports *ports;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 l3_off, label, epoch, hash;
	__u8 tos;
	int len;

	epoch = flow_cache_epoch(); /* first: nothing else is live across it */
	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IP || eth_not_ours(eth, c.pos, MAPGW_SIDE_FIRST))
		return FLOW_FAST_UNCACHED;
	l3_off = c.pos - data;
	ip = c.pos;
	ports = (void *)(ip + 1);
	len = ipv4_plain_len(ip, data_end, 0xffff - MAPGW_IPV6_HLEN);
	if (len < 0 || ip->ttl <= 1 || !flow_l4_cacheable(ip, ports, data_end))
		return FLOW_FAST_UNCACHED;
	w = flow_words_make(ip->saddr, ip->daddr, ports->source, ports->dest, ctx->ingress_ifindex,
			    ip->protocol, 0, FLOW_BR_ENCAP);
	hash = flow_hash(w);
	fe = flow_cache_find(&mapgw_br_flow_cache, w, hash, epoch, len);
	if (!fe)
		return br_flow_missed(w, epoch);
	label = flow_label_of_hash(hash); /* = flow_label() of this flow */
	tos = ip->tos;
	ipv4_decrease_ttl(ip);
	ip6 = flow_encap_push(ctx, l3_off, &fe->h);
	if (!ip6)
		return XDP_DROP;
	outer_ipv6_fixed(ip6, tos, len, label);
	ipv6_addr_pair_copy(&ip6->saddr, &fe->src);
	return xdp_send(ctx, fe->h.ifindex, MAPGW_CNT_BR_ENCAP);
}

/* After the full path encapsulated a packet the probe keyed: remember how. */
__attribute__((noinline)) int br_flow_fill(const struct bpf_fib_lookup *fib, __u32 len,
					   const struct br_target *t)
{
	struct br_flow_entry *e;

	if (!fib || !t)
		return 0;
	e = br_flow_claim(fib, len);
	if (!e)
		return 0;
	ipv6_addr_store(&e->src, &t->br);
	ipv6_addr_store(&e->dst, &t->ce);
	return 0;
}

static __always_inline int br_v4_full(struct xdp_md *ctx, bool keyed)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct bpf_fib_lookup fib = {};
	struct br_target t;
	enum mapgw_counter why;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 l3_off, label;
	int proto, len;

	proto = parse_ethhdr(&c, &eth);
	if (proto < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_L2, ctx, XDP_DROP);
	why = eth_not_ours(eth, c.pos, MAPGW_SIDE_FIRST);
	if (why)
		return xdp_count(why, ctx, XDP_PASS);
	if (proto != MAPGW_ETH_P_IP)
		return xdp_count(MAPGW_CNT_RX_NON_IP, ctx, XDP_PASS);
	l3_off = c.pos - data;
	if (parse_iphdr(&c, &ip) < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV4, ctx, XDP_DROP);
	len = ipv4_len_ok(ip, data_end, 0xffff - MAPGW_IPV6_HLEN);
	if (len < 0)
		return xdp_count(MAPGW_CNT_DROP_INNER_LENGTH, ctx, XDP_DROP);

	why = br_target_for(&c, ip, &t);
	if (why != BR_GO_ON)
		return xdp_count(why, ctx, why == MAPGW_CNT_PASS_NOT_MAPPED ? XDP_PASS : XDP_DROP);
	why = ipv4_routable(ip);
	if (why != IPV4_OK)
		return xdp_count(why, ctx, ipv4_refusal_verdict(why));
	if (ip->ttl <= 1)
		return xdp_count(MAPGW_CNT_PUNT_TTL, ctx, XDP_PASS);

	fib_prepare6(&fib, ctx->ingress_ifindex, &t.br, &t.ce, len + MAPGW_IPV6_HLEN);
	why = fib_verdict(fib_lookup_cached(ctx, &fib, 0));
	if (why != FIB_FORWARD)
		return xdp_count(why, ctx, counter_is_drop(why) ? XDP_DROP : XDP_PASS);
	if (!bpf_map_lookup_elem(&mapgw_tx_ports, &fib.ifindex))
		return xdp_count(MAPGW_CNT_PUNT_NO_DEVMAP, ctx, XDP_PASS);

	if (keyed)
		br_flow_fill(&fib, len, &t);
	label = flow_label(ip->saddr, ip->daddr, ip->protocol, flow_ports(&c, ip));
	ipv4_decrease_ttl(ip);
	return xdp_encap_send(ctx, l3_off, len, ip->tos, label, &t.br, &t.ce, &fib,
			      MAPGW_CNT_BR_ENCAP);
}

SEC("xdp")
int mapgw_br_v4(struct xdp_md *ctx)
{
	int rc = br_v4_fast(ctx);

	return rc >= 0 ? rc : br_v4_full(ctx, rc == FLOW_FAST_MISSED);
}

/* ---- XDP, IPv6 side ----------------------------------------------------- */

/*
 * The decapsulation flow cache: a TCP/UDP packet, not a fragment, in a
 * plain IPv4-in-IPv6 header, whose inner source (address, port) and
 * destination the cache knows, arriving with exactly the outer addresses
 * that passed the §8.1 check: decapsulated and sent. Anything else — a
 * spoofed outer source included — takes the full path, which checks and
 * counts it. Returns the verdict, or FLOW_FAST_*.
 */
static __always_inline int br_v6_fast(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct br_flow_entry *fe;
	struct flow_words w;
	struct l4_ports *ports;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 l3_off, epoch;
	int len;

	epoch = flow_cache_epoch();
	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IPV6 || eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND))
		return FLOW_FAST_UNCACHED;
	l3_off = c.pos - data;
	if (parse_ipv6hdr(&c, &ip6) != MAPGW_IPPROTO_IPIP ||
	    !ipv6_payload_within(ip6, data_end - (void *)(ip6 + 1)))
		return FLOW_FAST_UNCACHED;
	ip = c.pos;
	ports = (void *)(ip + 1);
	len = ipv4_plain_len(ip, data_end, bpf_ntohs(ip6->payload_len));
	if (len < 0 || ip->ttl <= 1 || !flow_l4_cacheable(ip, ports, data_end))
		return FLOW_FAST_UNCACHED;
	w = flow_words_make(ip->saddr, ip->daddr, ports->source, 0, ctx->ingress_ifindex,
			    ip->protocol, ip->tos, FLOW_BR_DECAP);
	fe = flow_cache_find(&mapgw_br_flow_cache, w, flow_hash(w), epoch, len);
	if (!fe || !ipv6_addr_pair_same(&ip6->saddr, &fe->src))
		return br_flow_missed(w, epoch);
	ipv4_decrease_ttl(ip);
	return flow_decap_send(ctx, l3_off, &fe->h, MAPGW_CNT_BR_DECAP);
}

/* After the full path checked and decapsulated a packet the probe keyed. */
__attribute__((noinline)) int br_decap_fill(const struct bpf_fib_lookup *fib, __u32 len,
					    const struct ipv6hdr *ip6)
{
	struct br_flow_entry *e;

	if (!fib || !ip6)
		return 0;
	e = br_flow_claim(fib, len);
	if (!e)
		return 0;
	ipv6_addr_pair_copy(&e->src, &ip6->saddr);
	return 0;
}

/* PTB about a packet we sent to a CE -> frag-needed to its IPv4 sender. */
static __always_inline int br_ptb(struct xdp_md *ctx, struct hdr_cursor *c, __u32 l3_off)
{
	struct bpf_fib_lookup fib = {};
	struct mapgw_br_config *cfg;
	struct ptb_info pi = {};
	struct in6_addr own;
	struct iphdr *ip;
	__be32 icmp_src;
	__u32 key = 0;

	switch (ptb_parse(l3_off, c, &pi)) {
	case PTB_MALFORMED:
		return xdp_count(MAPGW_CNT_DROP_ICMP_UNMATCHED, ctx, XDP_DROP);
	case PTB_BAD_MTU:
		return xdp_count(MAPGW_CNT_DROP_PTB_BAD_MTU, ctx, XDP_DROP);
	case PTB_NOT_TUNNEL:
		return xdp_count(MAPGW_CNT_PASS_LOCAL_IPV6, ctx, XDP_PASS);
	default:
		break;
	}
	u128_to_in6(&own, &pi.tunnel_src);
	if (!br_is_own_address(&own))
		return xdp_count(MAPGW_CNT_PASS_LOCAL_IPV6, ctx, XDP_PASS); /* the kernel's own */
	cfg = bpf_map_lookup_elem(&mapgw_br_config, &key);
	icmp_src = cfg && cfg->icmp_src_ipv4 ? cfg->icmp_src_ipv4 : pi.orig_dst;
	fib.family = MAPGW_AF_INET;
	fib.ifindex = ctx->ingress_ifindex;
	fib.ipv4_src = icmp_src;
	fib.ipv4_dst = pi.orig_src;
	fib.l4_protocol = MAPGW_IPPROTO_ICMP;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return xdp_count(MAPGW_CNT_DROP_ICMP_NO_ROUTE, ctx, XDP_DROP);
	ip = ptb_rebuild(ctx, &pi, icmp_src, pi.orig_src);
	if (!ip)
		return xdp_count(MAPGW_CNT_DROP_ADJUST_FAILED, ctx, XDP_DROP);
	eth_from_fib((void *)ip - MAPGW_ETH_HLEN, &fib, MAPGW_ETH_P_IP);
	count(MAPGW_CNT_BR_PTB_TRANSLATED, PTB_OUT_HDRS + pi.quote_len);
	return xdp_redirect(ctx, fib.ifindex);
}

/* CE -> CE inside the domains: new outer header, no trip through IPv4. */
/* Back to another CE with the outer header rewritten in place (an option
 * header the first CE sent stays, and counts in @outer_len). */
static __always_inline int br_hairpin(struct xdp_md *ctx, struct ethhdr *eth, struct ipv6hdr *ip6,
				      struct iphdr *ip, struct hdr_cursor *l4, int outer_len)
{
	struct bpf_fib_lookup fib = {};
	enum mapgw_counter why;
	struct br_target t;

	why = br_target_for(l4, ip, &t);
	if (why != BR_GO_ON)
		return xdp_count(why, ctx, XDP_DROP);
	fib_prepare6(&fib, ctx->ingress_ifindex, &t.br, &t.ce, outer_len);
	why = fib_verdict(fib_lookup_cached(ctx, &fib, 0));
	if (why != FIB_FORWARD || !bpf_map_lookup_elem(&mapgw_tx_ports, &fib.ifindex))
		/* The TC slow path decapsulates; the kernel routes the inner
		 * packet to mapgw0, whose egress program encapsulates again. */
		return xdp_count(why != FIB_FORWARD ? why : MAPGW_CNT_PUNT_NO_DEVMAP, ctx,
				 counter_is_drop(why) ? XDP_DROP : XDP_PASS);
	ipv4_decrease_ttl(ip);
	u128_to_in6(&ip6->saddr, &t.br);
	u128_to_in6(&ip6->daddr, &t.ce);
	ip6->hop_limit = MAPGW_ENCAP_HOP_LIMIT;
	eth_from_fib(eth, &fib, MAPGW_ETH_P_IPV6);
	count(MAPGW_CNT_BR_HAIRPIN, bpf_xdp_get_buff_len(ctx));
	return xdp_redirect(ctx, fib.ifindex);
}

static __always_inline int br_v6_full(struct xdp_md *ctx, bool keyed)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct bpf_fib_lookup fib = {};
	enum mapgw_counter why;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u32 l3_off;
	int proto, len;

	proto = parse_ethhdr(&c, &eth);
	if (proto < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_L2, ctx, XDP_DROP);
	why = eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND);
	if (why)
		return xdp_count(why, ctx, XDP_PASS);
	if (proto != MAPGW_ETH_P_IPV6)
		return xdp_count(MAPGW_CNT_RX_NON_IP, ctx, XDP_PASS);
	l3_off = c.pos - data;
	proto = parse_ipv6hdr(&c, &ip6);
	if (proto < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV6, ctx, XDP_DROP);
	if (!br_is_own_address(&ip6->daddr))
		return xdp_count(MAPGW_CNT_PASS_NOT_BR, ctx, XDP_PASS);
	if (!ipv6_payload_within(ip6, data_end - (void *)(ip6 + 1)))
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV6, ctx, XDP_DROP);
	if (proto == MAPGW_IPPROTO_ICMPV6) {
		struct icmp6hdr *icmp6 = c.pos;

		if ((void *)(icmp6 + 1) <= data_end && icmp6->icmp6_type == MAPGW_ICMPV6_PKT_TOOBIG)
			return br_ptb(ctx, &c, l3_off);
	}
	proto = tunnel_skip_encap_limit(&c, proto);
	why = tunnel_nexthdr_verdict((__u8)proto);
	if (why != BR_GO_ON)
		return xdp_count(why, ctx, why == MAPGW_CNT_PASS_LOCAL_IPV6 ? XDP_PASS : XDP_DROP);

	if (parse_iphdr(&c, &ip) < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV4, ctx, XDP_DROP);
	len = ipv4_len_ok(ip, data_end, tunnel_inner_limit(ip6, ip));
	if (len < 0)
		return xdp_count(MAPGW_CNT_DROP_INNER_LENGTH, ctx, XDP_DROP);
	why = ipv4_routable(ip);
	if (why != IPV4_OK)
		return xdp_count(why, ctx, ipv4_refusal_verdict(why));
	why = br_check_from_ce(&c, ip6, ip, true);
	if (why != BR_GO_ON)
		return xdp_count(why, ctx, XDP_DROP);
	if (ip->ttl <= 1)
		return xdp_count(MAPGW_CNT_PUNT_TTL, ctx, XDP_PASS);
	if (br_rule_for_ipv4(ip->daddr))
		return br_hairpin(ctx, eth, ip6, ip, &c, len + ((void *)ip - (void *)ip6));

	fib_prepare4(&fib, ctx->ingress_ifindex, ip, len);
	why = fib_verdict(fib_lookup_cached(ctx, &fib, 0));
	if (why != FIB_FORWARD)
		return xdp_count(why, ctx, counter_is_drop(why) ? XDP_DROP : XDP_PASS);
	if (!bpf_map_lookup_elem(&mapgw_tx_ports, &fib.ifindex))
		return xdp_count(MAPGW_CNT_PUNT_NO_DEVMAP, ctx, XDP_PASS);

	if (keyed)
		br_decap_fill(&fib, len, ip6);
	ipv4_decrease_ttl(ip);
	return xdp_decap_send(ctx, (void *)ip - data, &fib, MAPGW_CNT_BR_DECAP);
}

static __always_inline int br_v6(struct xdp_md *ctx)
{
	int rc = br_v6_fast(ctx);

	return rc >= 0 ? rc : br_v6_full(ctx, rc == FLOW_FAST_MISSED);
}

SEC("xdp")
int mapgw_br_v6(struct xdp_md *ctx)
{
	return br_v6(ctx);
}

/* With spreading on (spread.h), the loader attaches mapgw_br_v6fan instead:
 * each frame to its inner flow's CPU, where mapgw_br_v6cpu does mapgw_br_v6's
 * work; the frames of flows that belong here are processed at once. */
MAPGW_SPREADING_PROGRAMS(mapgw_br_v6fan, mapgw_br_v6cpu, mapgw_br_qdrops, br_v6)

/* ---- TC slow paths ------------------------------------------------------ */

SEC("tc")
int mapgw_br_tc_v6(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	enum mapgw_counter why;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IPV6 || eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND))
		return TC_ACT_OK; /* tagged, or not to us: the kernel's */
	if (tunnel_skip_encap_limit(&c, parse_ipv6hdr(&c, &ip6)) != MAPGW_IPPROTO_IPIP ||
	    !br_is_own_address(&ip6->daddr))
		return TC_ACT_OK;
	if (!ipv6_payload_within(ip6, skb->len - MAPGW_ETH_HLEN - MAPGW_IPV6_HLEN)) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV6, skb->len);
		return TC_ACT_SHOT;
	}
	if (parse_iphdr(&c, &ip) < 0 || ipv4_len_ok(ip, data_end, tunnel_inner_limit(ip6, ip)) < 0) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV4, skb->len);
		return TC_ACT_SHOT;
	}
	why = br_check_from_ce(&c, ip6, ip, true);
	if (why != BR_GO_ON) {
		count(why, skb->len);
		return TC_ACT_SHOT;
	}
	if (tc_decap_to_ipv4(skb, (void *)ip - (void *)ip6)) {
		count(MAPGW_CNT_DROP_ADJUST_FAILED, skb->len);
		return TC_ACT_SHOT;
	}
	count(MAPGW_CNT_TC_DECAP, skb->len);
	return TC_ACT_OK; /* the kernel forwards the IPv4 packet */
}

SEC("tc")
int mapgw_br_tc_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct bpf_fib_lookup fib = {};
	struct bpf_redir_neigh nh = {};
	enum mapgw_counter why;
	struct br_target t;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u32 label;
	int len, rc;
	__u8 tos;

	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IP || c.pos != data + MAPGW_ETH_HLEN)
		return TC_ACT_SHOT; /* mapgw0 carries only IPv4 for the domain */
	if (parse_iphdr(&c, &ip) < 0) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV4, skb->len);
		return TC_ACT_SHOT;
	}
	len = ipv4_len_ok(ip, data_end, 0xffff - MAPGW_IPV6_HLEN);
	if (len < 0) {
		count(MAPGW_CNT_DROP_INNER_LENGTH, skb->len);
		return TC_ACT_SHOT;
	}
	why = br_target_for(&c, ip, &t);
	if (why != BR_GO_ON) {
		/* Routed here but no rule (any more): nothing else can take it. */
		count(why == MAPGW_CNT_PASS_NOT_MAPPED ? MAPGW_CNT_DROP_NO_RULE : why, skb->len);
		return TC_ACT_SHOT;
	}
	fib_prepare6(&fib, skb->ifindex, &t.br, &t.ce, 0);
	/* An ingress-style lookup from mapgw0: OUTPUT would pin the egress to
	 * mapgw0 itself. The neighbour is bpf_redirect_neigh()'s job. */
	rc = fib_lookup(skb, &fib, BPF_FIB_LOOKUP_SKIP_NEIGH);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
		count(MAPGW_CNT_DROP_FIB_UNREACHABLE, skb->len);
		return TC_ACT_SHOT;
	}
	tos = ip->tos;
	label = flow_label(ip->saddr, ip->daddr, ip->protocol, flow_ports(&c, ip));
	if (bpf_skb_adjust_room(skb, MAPGW_IPV6_HLEN, BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_ENCAP_L3_IPV6)) {
		count(MAPGW_CNT_DROP_ADJUST_FAILED, skb->len);
		return TC_ACT_SHOT;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip6 = data + MAPGW_ETH_HLEN;
	if ((void *)(ip6 + 1) > data_end) {
		count(MAPGW_CNT_DROP_ADJUST_FAILED, skb->len);
		return TC_ACT_SHOT;
	}
	eth->h_proto = bpf_htons(MAPGW_ETH_P_IPV6);
	build_outer_ipv6(ip6, &t.br, &t.ce, tos, len, label);
	count(MAPGW_CNT_TC_ENCAP, skb->len);
	nh.nh_family = MAPGW_AF_INET6;
	__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, sizeof(nh.ipv6_nh));
	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
