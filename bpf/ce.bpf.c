// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * MAP-E CE: NAT44 into the own port set + IPv4-in-IPv6 (RFC 7597 §8, v6plus
 * book §4-5). Entry points, one per attach point; decisions in ce.h/nat.h.
 *
 *   mapgw_ce_lan      XDP, LAN: IPv4 routed into MAP-E (the kernel's route
 *                     points at mapgw0) -> NAT, encapsulate to the BR (or an
 *                     FMR peer), redirect to the WAN; hairpinning.
 *   mapgw_ce_wan      XDP, WAN: IPv4-in-IPv6 to our CE address -> check,
 *                     reverse NAT, decapsulate, redirect to the LAN; ICMPv6
 *                     Packet Too Big -> ICMPv4 frag-needed to the LAN host.
 *                     With spreading on, mapgw_ce_wanfan takes its
 *                     place and mapgw_ce_wancpu (cpumap) does its work
 *                     on each inner flow's CPU (spread.h).
 *   mapgw_ce_tc_wan   TC ingress, WAN: slow path of mapgw_ce_wan (the kernel
 *                     then forwards or delivers the IPv4 packet).
 *   mapgw_ce_tc_encap TC egress of mapgw0: slow path of mapgw_ce_lan for what
 *                     the kernel handled first and for the CE's own traffic.
 *
 * Both XDP programs first ask the flow cache (ce_lan_fast, ce_wan_fast) and
 * take the full path (ce_lan_full, ce_wan_full) when it has no copy.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ce.h"
#include "fib.h"
#include "flow_cache.h"
#include "xdp_common.h"
#include "icmp_ptb.h"
#include "spread.h"

#define TC_PULL_LEN 160

/*
 * Per-packet working space. The BPF stack is 512 bytes for a whole call
 * chain, and the NAT functions are separate calls; the big structures live
 * here instead. One slot per CPU; a program never runs twice at once on a
 * CPU, and each frame of the chain uses its own fields.
 */
struct ce_scratch {
	struct bpf_fib_lookup fib;	/* entry programs */
	struct ce_out_plan out;
	struct ce_in_plan in;
	struct bpf_fib_lookup hp_fib;	/* hairpin / PTB subprograms */
	struct ce_out_plan hp_out;
	struct ce_in_plan hp_in;
	struct flow_miss miss;		/* what the fast path's miss left */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ce_scratch);
} mapgw_ce_scratch SEC(".maps");

/* The flow cache (flow_cache.h): sets of four 64-byte entries (32768 sets:
 * 8 MiB per CPU), a part per CPU (flow_set_index); the loader sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* page-aligned values (flow_set_index) */
	__uint(max_entries, MAPGW_FLOW_CACHE_SETS);
	__type(key, __u32);
	__type(value, struct flow_entry);
} mapgw_flow_cache SEC(".maps");

static __always_inline struct ce_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mapgw_ce_scratch, &zero);
}

/* Does the kernel route @ip into MAP-E (via the slow-path device)? */
static __always_inline bool ce_routed_to_map(void *ctx, const struct mapgw_ce_config *cfg,
					     struct iphdr *ip, __u32 ifindex)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib_prepare4(&fib, ifindex, ip, 0);
	rc = fib_lookup_cached(ctx, &fib, BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc == BPF_FIB_LKUP_RET_SUCCESS && fib.ifindex == cfg->slow_ifindex;
}

/* ---- XDP, LAN side --------------------------------------------------------- */

/*
 * The flow cache (flow_cache.h). The fill is a global function: the verifier
 * checks it once, on its own, and the entry programs' paths do not multiply
 * by its (inlined, probe and fill took mapgw_ce_lan from 42 k to 221 k
 * instructions). The probe is inlined: a BPF-to-BPF call and its return cost
 * 6-9 ns per packet on this hardware (the return goes through the kernel's
 * return thunk), and inlining it adds 15 % to the verifier's work only.
 * A miss leaves the key and epoch in the scratch map for the fill
 * (FLOW_FAST_MISSED); a hit never touches it.
 */
static __always_inline int ce_flow_missed(struct flow_words w, __u32 epoch)
{
	struct ce_scratch *sc = scratch();

	return flow_fast_missed(sc ? &sc->miss : 0, w, epoch);
}

/* LAN: an established flow to the BR the cache knows -> translated,
 * encapsulated and sent. Returns the verdict, or FLOW_FAST_*. */
static __always_inline int ce_lan_fast(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	__u32 epoch = flow_cache_epoch(); /* first: nothing else is live across it */
	struct mapgw_ce_config *cfg = ce_config();
	struct flow_entry *fe;
	struct flow_words w;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u32 l3_off;
	void *l4;
	__u8 tos;
	int len;

	if (!cfg || !cfg->ipv4 || parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IP ||
	    eth_not_ours(eth, c.pos, MAPGW_SIDE_FIRST))
		return FLOW_FAST_UNCACHED;
	l3_off = c.pos - data;
	ip = c.pos;
	l4 = ip + 1;
	len = ipv4_plain_len(ip, data_end, 0xffff - MAPGW_IPV6_HLEN);
	if (len < 0 || ip->ttl <= 1 || ip->daddr == cfg->ipv4 ||
	    !flow_key_of(&w, ip, l4, data_end, ctx->ingress_ifindex, FLOW_OUT))
		return FLOW_FAST_UNCACHED;
	fe = flow_cache_find(&mapgw_flow_cache, w, flow_hash(w), epoch, len);
	if (!fe)
		return ce_flow_missed(w, epoch);
	if (nat_rewrite(ip, l4, data_end, true, cfg->ipv4, fe->port, 1))
		return ce_flow_missed(w, epoch); /* the full path tells why */
	tos = ip->tos;
	ipv4_decrease_ttl(ip);
	ip6 = flow_encap_push(ctx, l3_off, &fe->h);
	if (!ip6)
		return XDP_DROP;
	build_outer_ipv6(ip6, &cfg->ce_addr, &cfg->br_addr, tos, len, fe->label);
	return xdp_send(ctx, fe->h.ifindex, MAPGW_CNT_CE_OUT);
}

/* After the full path forwarded a packet the probe keyed (FLOW_FAST_MISSED):
 * remember how. */
__attribute__((noinline)) int ce_flow_fill(const struct bpf_fib_lookup *fib, __u32 len, __u32 addr,
					   __u32 port, __u32 label)
{
	struct ce_scratch *sc = scratch();
	struct flow_entry *e;

	if (!sc || !fib)
		return 0;
	e = flow_cache_claim(&mapgw_flow_cache, &sc->miss, (__u16)len, fib);
	if (!e)
		return 0;
	e->label = label;
	e->addr = addr;
	e->port = (__u16)port;
	return 0;
}

/* Own subprogram (own stack frame): the BPF stack is 512 bytes per chain. */
static __attribute__((noinline)) int ce_hairpin(struct xdp_md *ctx, const struct mapgw_ce_config *cfg,
						   struct iphdr *ip, struct hdr_cursor *l4)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct ce_scratch *sc = scratch();
	enum mapgw_counter why;

	if (!sc)
		return xdp_count(MAPGW_CNT_DROP_NOT_PROVISIONED, ctx, XDP_DROP);
	__builtin_memset(&sc->hp_fib, 0, sizeof(sc->hp_fib));
	__builtin_memset(&sc->hp_out, 0, sizeof(sc->hp_out));
	__builtin_memset(&sc->hp_in, 0, sizeof(sc->hp_in));
	/* The Ethernet header is rewritten in place: only untagged frames. */
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end || (void *)ip != (void *)(eth + 1) ||
	    (void *)(ip + 1) > (void *)(long)ctx->data_end)
		return xdp_count(MAPGW_CNT_PUNT_FIB_OTHER, ctx, XDP_PASS);
	why = ce_plan_hairpin(cfg, l4, ip, &sc->hp_out, &sc->hp_in, nat_clock());
	if (why != NAT_OK)
		return xdp_count(why, ctx, XDP_DROP);
	sc->hp_fib.family = MAPGW_AF_INET;
	sc->hp_fib.ifindex = ctx->ingress_ifindex;
	sc->hp_fib.ipv4_src = cfg->ipv4;
	sc->hp_fib.ipv4_dst = sc->hp_in.in_addr;
	sc->hp_fib.l4_protocol = ip->protocol;
	if (bpf_fib_lookup(ctx, &sc->hp_fib, sizeof(sc->hp_fib), 0) != BPF_FIB_LKUP_RET_SUCCESS ||
	    !bpf_map_lookup_elem(&mapgw_tx_ports, &sc->hp_fib.ifindex))
		return xdp_count(MAPGW_CNT_PUNT_NO_NEIGH, ctx, XDP_PASS);
	if (nat_rewrite(ip, l4->pos, l4->end, true, cfg->ipv4, sc->hp_out.ext_port, 1) ||
	    nat_rewrite(ip, l4->pos, l4->end, false, sc->hp_in.in_addr, sc->hp_in.in_port, 1))
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_L4, ctx, XDP_DROP);
	ipv4_decrease_ttl(ip);
	eth_from_fib(eth, &sc->hp_fib, MAPGW_ETH_P_IP);
	count(MAPGW_CNT_CE_HAIRPIN, bpf_xdp_get_buff_len(ctx));
	return xdp_redirect(ctx, sc->hp_fib.ifindex);
}

static __always_inline int ce_lan_full(struct xdp_md *ctx, bool keyed)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct mapgw_ce_config *cfg = ce_config();
	struct ce_scratch *sc = scratch();
	enum mapgw_counter why;
	__u32 l3_off, label;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u64 now;
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
	if (!cfg || !cfg->ipv4 || !sc)
		return xdp_count(MAPGW_CNT_PASS_NOT_MAPPED, ctx, XDP_PASS);
	if (!ce_routed_to_map(ctx, cfg, ip, ctx->ingress_ifindex))
		return xdp_count(MAPGW_CNT_PASS_NOT_MAPPED, ctx, XDP_PASS);
	why = ipv4_routable(ip);
	if (why != IPV4_OK)
		return xdp_count(why, ctx, ipv4_refusal_verdict(why));
	if (ip->ttl <= 1)
		return xdp_count(MAPGW_CNT_PUNT_TTL, ctx, XDP_PASS);
	now = nat_clock();
	if (ip->daddr == cfg->ipv4)
		return ce_hairpin(ctx, cfg, ip, &c);

	__builtin_memset(&sc->out, 0, sizeof(sc->out));
	__builtin_memset(&sc->fib, 0, sizeof(sc->fib));
	why = ce_plan_out(cfg, &c, ip, &sc->out, now);
	if (why != NAT_OK)
		return xdp_count(why, ctx, XDP_DROP);
	fib_prepare6(&sc->fib, ctx->ingress_ifindex, &sc->out.target.br, &sc->out.target.ce,
		     len + MAPGW_IPV6_HLEN);
	why = fib_verdict(fib_lookup_cached(ctx, &sc->fib, 0));
	if (why != FIB_FORWARD)
		return xdp_count(why, ctx, counter_is_drop(why) ? XDP_DROP : XDP_PASS);
	if (!bpf_map_lookup_elem(&mapgw_tx_ports, &sc->fib.ifindex))
		return xdp_count(MAPGW_CNT_PUNT_NO_DEVMAP, ctx, XDP_PASS);

	why = ce_rewrite_out(cfg, ip, c.pos, data_end, &sc->out);
	if (why != NAT_OK)
		return xdp_count(why, ctx, XDP_DROP);
	if (sc->out.icmp_error)
		count(MAPGW_CNT_CE_ICMP_ERROR_OUT, 0);
	label = flow_label(ip->saddr, ip->daddr, ip->protocol, flow_ports(&c, ip));
	if (keyed && !sc->out.fmr && !sc->out.icmp_error)
		ce_flow_fill(&sc->fib, len, 0, sc->out.ext_port, label);
	ipv4_decrease_ttl(ip);
	return xdp_encap_send(ctx, l3_off, len, ip->tos, label, &sc->out.target.br,
			      &sc->out.target.ce, &sc->fib,
			      sc->out.fmr ? MAPGW_CNT_CE_FMR_OUT : MAPGW_CNT_CE_OUT);
}

SEC("xdp")
int mapgw_ce_lan(struct xdp_md *ctx)
{
	int rc = ce_lan_fast(ctx);

	return rc >= 0 ? rc : ce_lan_full(ctx, rc == FLOW_FAST_MISSED);
}

/* ---- XDP, WAN side --------------------------------------------------------- */

/* WAN: an established flow from the BR the cache knows -> translated,
 * decapsulated and sent. Returns the verdict, or FLOW_FAST_*. */
static __always_inline int ce_wan_fast(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	__u32 epoch = flow_cache_epoch();
	struct mapgw_ce_config *cfg = ce_config();
	struct mapgw_u128 src, dst;
	struct flow_entry *fe;
	struct flow_words w;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u32 l3_off;
	void *l4;
	int len;

	if (!cfg || !cfg->ipv4 || parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IPV6 ||
	    eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND))
		return FLOW_FAST_UNCACHED;
	l3_off = c.pos - data;
	if (parse_ipv6hdr(&c, &ip6) != MAPGW_IPPROTO_IPIP ||
	    !ipv6_payload_within(ip6, data_end - (void *)(ip6 + 1)))
		return FLOW_FAST_UNCACHED;
	u128_from_in6(&src, &ip6->saddr);
	u128_from_in6(&dst, &ip6->daddr);
	if (!mapgw_u128_eq(&dst, &cfg->ce_addr) || !mapgw_u128_eq(&src, &cfg->br_addr))
		return FLOW_FAST_UNCACHED;
	ip = c.pos;
	l4 = ip + 1;
	len = ipv4_plain_len(ip, data_end, bpf_ntohs(ip6->payload_len));
	if (len < 0 || ip->ttl <= 1 || ip->daddr != cfg->ipv4 ||
	    !flow_key_of(&w, ip, l4, data_end, ctx->ingress_ifindex, FLOW_IN))
		return FLOW_FAST_UNCACHED;
	fe = flow_cache_find(&mapgw_flow_cache, w, flow_hash(w), epoch, len);
	if (!fe)
		return ce_flow_missed(w, epoch);
	if (nat_rewrite(ip, l4, data_end, false, fe->addr, fe->port, 1))
		return ce_flow_missed(w, epoch); /* the full path tells why */
	ipv4_decrease_ttl(ip);
	return flow_decap_send(ctx, l3_off, &fe->h, MAPGW_CNT_CE_IN);
}

/* PTB about our tunnel packet -> frag-needed to the inside host. */
static __attribute__((noinline)) int ce_ptb(struct xdp_md *ctx, const struct mapgw_ce_config *cfg,
				  struct hdr_cursor *c, __u32 l3_off)
{
	struct bpf_fib_lookup fib = {};
	struct ptb_info pi = {};
	enum mapgw_counter why;
	struct iphdr *ip;
	__u32 in_addr = 0;

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
	if (!mapgw_u128_eq(&pi.tunnel_src, &cfg->ce_addr) || pi.orig_src != cfg->ipv4)
		return xdp_count(MAPGW_CNT_PASS_LOCAL_IPV6, ctx, XDP_PASS);
	/* As if the path had said it to our public address; then the usual
	 * inbound ICMP error translation finds the inside host. */
	ip = ptb_rebuild(ctx, &pi, cfg->icmp_src ? cfg->icmp_src : pi.orig_dst, cfg->ipv4);
	if (!ip)
		return xdp_count(MAPGW_CNT_DROP_ADJUST_FAILED, ctx, XDP_DROP);
	why = nat_icmp_error(cfg, ip, (void *)(ip + 1), (void *)(long)ctx->data_end, true,
			     &in_addr);
	if (why != NAT_OK)
		return xdp_count(why, ctx, XDP_DROP);
	fib.family = MAPGW_AF_INET;
	fib.ifindex = cfg->lan_ifindex;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = in_addr;
	fib.l4_protocol = MAPGW_IPPROTO_ICMP;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return xdp_count(MAPGW_CNT_DROP_ICMP_NO_ROUTE, ctx, XDP_DROP);
	eth_from_fib((void *)ip - MAPGW_ETH_HLEN, &fib, MAPGW_ETH_P_IP);
	count(MAPGW_CNT_CE_PTB_TRANSLATED, PTB_OUT_HDRS + pi.quote_len);
	return xdp_redirect(ctx, fib.ifindex);
}

/*
 * From the WAN with a source only the LAN side may have: an address the
 * kernel routes to the LAN or owns (what strict reverse-path filtering
 * drops), or our public address with a port of our own set (a CE sharing
 * the address has other ports; portless, it cannot tell). @fib: scratch.
 */
static __always_inline bool ce_source_spoofed(void *ctx, __u32 ifindex, const struct mapgw_ce_config *cfg,
					      struct iphdr *ip, struct hdr_cursor *l4,
					      struct bpf_fib_lookup *fib)
{
	struct l4_ports *ports = l4->pos;
	int rc;

	if (ip->saddr == cfg->ipv4) {
		if ((ip->protocol != MAPGW_IPPROTO_TCP && ip->protocol != MAPGW_IPPROTO_UDP) ||
		    ipv4_is_later_fragment(ip) || (void *)(ports + 1) > l4->end)
			return true;
		return mapgw_port_to_index(cfg->psid_offset, cfg->psid_len, cfg->psid,
					   bpf_ntohs(ports->source)) >= 0;
	}
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = MAPGW_AF_INET;
	fib->ifindex = ifindex;
	fib->ipv4_dst = ip->saddr;
	rc = fib_lookup_cached(ctx, fib, BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc == BPF_FIB_LKUP_RET_NOT_FWDED ||
	       (rc == BPF_FIB_LKUP_RET_SUCCESS && fib->ifindex == cfg->lan_ifindex);
}

static __always_inline int ce_wan_full(struct xdp_md *ctx, bool keyed)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = data_end};
	struct mapgw_ce_config *cfg = ce_config();
	struct bpf_fib_lookup fib = {};
	struct ce_in_plan p = {};
	struct mapgw_u128 dst;
	enum mapgw_counter why;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	__u32 l3_off;
	struct iphdr *ip;
	int proto, len;

	proto = parse_ethhdr(&c, &eth);
	if (proto < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_L2, ctx, XDP_DROP);
	why = eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND);
	if (why)
		return xdp_count(why, ctx, XDP_PASS);
	if (proto == MAPGW_ETH_P_IP) /* the kernel would route it into the LAN */
		return xdp_count(MAPGW_CNT_DROP_WAN_PLAIN_IPV4, ctx, XDP_DROP);
	if (proto != MAPGW_ETH_P_IPV6)
		return xdp_count(MAPGW_CNT_RX_NON_IP, ctx, XDP_PASS);
	l3_off = c.pos - data;
	proto = parse_ipv6hdr(&c, &ip6);
	if (proto < 0)
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV6, ctx, XDP_DROP);
	if (!cfg || !cfg->ipv4)
		return xdp_count(MAPGW_CNT_PASS_NOT_BR, ctx, XDP_PASS);
	u128_from_in6(&dst, &ip6->daddr);
	if (!mapgw_u128_eq(&dst, &cfg->ce_addr))
		return xdp_count(MAPGW_CNT_PASS_NOT_BR, ctx, XDP_PASS);
	if (!ipv6_payload_within(ip6, data_end - (void *)(ip6 + 1)))
		return xdp_count(MAPGW_CNT_DROP_MALFORMED_IPV6, ctx, XDP_DROP);
	if (proto == MAPGW_IPPROTO_ICMPV6) {
		struct icmp6hdr *icmp6 = c.pos;

		if ((void *)(icmp6 + 1) <= data_end && icmp6->icmp6_type == MAPGW_ICMPV6_PKT_TOOBIG)
			return ce_ptb(ctx, cfg, &c, l3_off);
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
	if (ip->ttl <= 1)
		return xdp_count(MAPGW_CNT_PUNT_TTL, ctx, XDP_PASS);
	if (ce_source_spoofed(ctx, ctx->ingress_ifindex, cfg, ip, &c, &fib))
		return xdp_count(MAPGW_CNT_DROP_SPOOFED_SOURCE, ctx, XDP_DROP);
	why = ce_plan_in(cfg, &c, ip6, ip, &p, nat_clock());
	if (why != NAT_OK)
		return xdp_count(why, ctx, XDP_DROP);
	if (p.icmp_error) {
		/* Translated in place first: the inside host is in the quote. */
		why = ce_rewrite_in(cfg, ip, c.pos, data_end, &p);
		if (why != NAT_OK)
			return xdp_count(why, ctx, XDP_DROP);
		count(MAPGW_CNT_CE_ICMP_ERROR_IN, 0);
	}
	__builtin_memset(&fib, 0, sizeof(fib));
	fib_prepare4(&fib, ctx->ingress_ifindex, ip, len);
	fib.ipv4_dst = p.in_addr;
	why = fib_verdict(fib_lookup_cached(ctx, &fib, 0));
	if (why != FIB_FORWARD || !bpf_map_lookup_elem(&mapgw_tx_ports, &fib.ifindex)) {
		if (p.icmp_error) /* already rewritten: the slow path cannot redo it */
			return xdp_count(MAPGW_CNT_DROP_ICMP_NO_ROUTE, ctx, XDP_DROP);
		if (why == FIB_FORWARD)
			why = MAPGW_CNT_PUNT_NO_DEVMAP;
		return xdp_count(why, ctx, counter_is_drop(why) ? XDP_DROP : XDP_PASS);
	}
	if (!p.icmp_error) {
		why = ce_rewrite_in(cfg, ip, c.pos, data_end, &p);
		if (why != NAT_OK)
			return xdp_count(why, ctx, XDP_DROP);
		if (keyed)
			ce_flow_fill(&fib, len, p.in_addr, p.in_port, 0);
	}
	ipv4_decrease_ttl(ip);
	return xdp_decap_send(ctx, (void *)ip - data, &fib, MAPGW_CNT_CE_IN);
}

static __always_inline int ce_wan(struct xdp_md *ctx)
{
	int rc = ce_wan_fast(ctx);

	return rc >= 0 ? rc : ce_wan_full(ctx, rc == FLOW_FAST_MISSED);
}

SEC("xdp")
int mapgw_ce_wan(struct xdp_md *ctx)
{
	return ce_wan(ctx);
}

/* With spreading on (spread.h), the loader attaches mapgw_ce_wanfan instead:
 * every packet from the BR carries the same outer addresses, so RSS gives
 * them all one CPU; each goes to its inner flow's CPU, where mapgw_ce_wancpu
 * does mapgw_ce_wan's work. */
MAPGW_SPREADING_PROGRAMS(mapgw_ce_wanfan, mapgw_ce_wancpu, mapgw_ce_qdrops, ce_wan)

/* ---- TC slow paths --------------------------------------------------------- */

SEC("tc")
int mapgw_ce_tc_wan(struct __sk_buff *skb)
{
	struct mapgw_ce_config *cfg = ce_config();
	struct bpf_fib_lookup fib = {};
	struct ce_in_plan p = {};
	struct hdr_cursor c;
	enum mapgw_counter why;
	struct mapgw_u128 dst;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	void *data, *data_end;
	int proto;

	if (!cfg || !cfg->ipv4)
		return TC_ACT_OK;
	bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	c.pos = data;
	c.end = data_end;
	proto = parse_ethhdr(&c, &eth);
	if (proto < 0 || eth_not_ours(eth, c.pos, MAPGW_SIDE_SECOND))
		return TC_ACT_OK; /* tagged, or not to us: the kernel's */
	if (proto == MAPGW_ETH_P_IP) { /* the kernel would route it into the LAN */
		count(MAPGW_CNT_DROP_WAN_PLAIN_IPV4, skb->len);
		return TC_ACT_SHOT;
	}
	if (proto != MAPGW_ETH_P_IPV6)
		return TC_ACT_OK;
	if (tunnel_skip_encap_limit(&c, parse_ipv6hdr(&c, &ip6)) != MAPGW_IPPROTO_IPIP)
		return TC_ACT_OK;
	u128_from_in6(&dst, &ip6->daddr);
	if (!mapgw_u128_eq(&dst, &cfg->ce_addr))
		return TC_ACT_OK;
	if (!ipv6_payload_within(ip6, skb->len - MAPGW_ETH_HLEN - MAPGW_IPV6_HLEN)) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV6, skb->len);
		return TC_ACT_SHOT;
	}
	if (parse_iphdr(&c, &ip) < 0 || ipv4_len_ok(ip, data_end, tunnel_inner_limit(ip6, ip)) < 0) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV4, skb->len);
		return TC_ACT_SHOT;
	}
	/* No session for what the kernel would drop next, and the checks it
	 * cannot make: reverse-path filtering is off on the WAN (relax_rp_filter). */
	if (ipv4_martian_source(ip->saddr)) {
		count(MAPGW_CNT_DROP_MARTIAN_SOURCE, skb->len);
		return TC_ACT_SHOT;
	}
	if (ce_source_spoofed(skb, skb->ingress_ifindex, cfg, ip, &c, &fib)) {
		count(MAPGW_CNT_DROP_SPOOFED_SOURCE, skb->len);
		return TC_ACT_SHOT;
	}
	why = ce_plan_in(cfg, &c, ip6, ip, &p, nat_clock());
	if (why == NAT_OK)
		why = ce_rewrite_in(cfg, ip, c.pos, data_end, &p);
	if (why != NAT_OK) {
		count(why, skb->len);
		return TC_ACT_SHOT;
	}
	if (tc_decap_to_ipv4(skb, (void *)ip - (void *)ip6)) {
		count(MAPGW_CNT_DROP_ADJUST_FAILED, skb->len);
		return TC_ACT_SHOT;
	}
	count(MAPGW_CNT_TC_DECAP, skb->len);
	return TC_ACT_OK; /* the kernel forwards to the LAN host (or delivers locally) */
}

/* Hairpin in the slow path: translate both ways, then to the LAN host. */
static __attribute__((noinline)) int ce_tc_hairpin(struct __sk_buff *skb, const struct mapgw_ce_config *cfg,
					 struct iphdr *ip, struct hdr_cursor *l4)
{
	struct bpf_redir_neigh nh = {.nh_family = MAPGW_AF_INET};
	struct ce_scratch *sc = scratch();
	enum mapgw_counter why;

	if (!sc || (void *)(ip + 1) > (void *)(long)skb->data_end)
		return TC_ACT_SHOT;
	__builtin_memset(&sc->hp_out, 0, sizeof(sc->hp_out));
	__builtin_memset(&sc->hp_in, 0, sizeof(sc->hp_in));
	why = ce_plan_hairpin(cfg, l4, ip, &sc->hp_out, &sc->hp_in, nat_clock());
	if (why == NAT_OK &&
	    (nat_rewrite(ip, l4->pos, l4->end, true, cfg->ipv4, sc->hp_out.ext_port, 1) ||
	     nat_rewrite(ip, l4->pos, l4->end, false, sc->hp_in.in_addr, sc->hp_in.in_port, 1)))
		why = MAPGW_CNT_DROP_MALFORMED_L4;
	if (why != NAT_OK) {
		count(why, skb->len);
		return TC_ACT_SHOT;
	}
	count(MAPGW_CNT_CE_HAIRPIN, skb->len);
	nh.ipv4_nh = sc->hp_in.in_addr;
	return bpf_redirect_neigh(cfg->lan_ifindex, &nh, sizeof(nh), 0);
}

SEC("tc")
int mapgw_ce_tc_encap(struct __sk_buff *skb)
{
	struct mapgw_ce_config *cfg = ce_config();
	struct ce_scratch *sc = scratch();
	struct bpf_redir_neigh nh = {};
	enum mapgw_counter why;
	struct hdr_cursor c;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	void *data, *data_end;
	__u32 label;
	int len, rc;
	__u8 tos;

	if (!cfg || !cfg->ipv4 || !sc) {
		count(MAPGW_CNT_DROP_NOT_PROVISIONED, skb->len);
		return TC_ACT_SHOT;
	}
	bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	c.pos = data;
	c.end = data_end;
	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IP || c.pos != data + MAPGW_ETH_HLEN)
		return TC_ACT_SHOT; /* mapgw0 carries only IPv4 into MAP-E */
	if (parse_iphdr(&c, &ip) < 0) {
		count(MAPGW_CNT_DROP_MALFORMED_IPV4, skb->len);
		return TC_ACT_SHOT;
	}
	len = ipv4_len_ok(ip, data_end, 0xffff - MAPGW_IPV6_HLEN);
	if (len < 0) {
		count(MAPGW_CNT_DROP_INNER_LENGTH, skb->len);
		return TC_ACT_SHOT;
	}
	if (ip->daddr == cfg->ipv4)
		return ce_tc_hairpin(skb, cfg, ip, &c);
	__builtin_memset(&sc->out, 0, sizeof(sc->out));
	__builtin_memset(&sc->fib, 0, sizeof(sc->fib));
	why = ce_plan_out(cfg, &c, ip, &sc->out, nat_clock());
	if (why == NAT_OK)
		why = ce_rewrite_out(cfg, ip, c.pos, data_end, &sc->out);
	if (why != NAT_OK) {
		count(why, skb->len);
		return TC_ACT_SHOT;
	}
	if (sc->out.icmp_error)
		count(MAPGW_CNT_CE_ICMP_ERROR_OUT, 0);
	fib_prepare6(&sc->fib, skb->ifindex, &sc->out.target.br, &sc->out.target.ce, 0);
	rc = fib_lookup(skb, &sc->fib, BPF_FIB_LOOKUP_SKIP_NEIGH);
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
	build_outer_ipv6(ip6, &sc->out.target.br, &sc->out.target.ce, tos, len, label);
	count(MAPGW_CNT_TC_ENCAP, skb->len);
	nh.nh_family = MAPGW_AF_INET6;
	__builtin_memcpy(nh.ipv6_nh, sc->fib.ipv6_dst, sizeof(nh.ipv6_nh));
	return bpf_redirect_neigh(sc->fib.ifindex, &nh, sizeof(nh), 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
