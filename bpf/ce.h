/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CE decisions shared by the XDP fast path and the TC slow path: the packet
 * filter, the outbound plan (NAT state + where the tunnel goes) and the
 * inbound plan (tunnel source check + reverse NAT). Plans only read the
 * packet and update NAT state; the entry programs in ce.bpf.c rewrite.
 */
#ifndef MAPGW_CE_H
#define MAPGW_CE_H

#include "ce_maps.h"
#include "icmp_nat.h"
#include "map_domain.h"
#include "nat.h"
#include "tcp_mss.h"

static __always_inline struct mapgw_ce_config *ce_config(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&mapgw_ce_config, &key);
}

struct filter_ctx {
	const struct nat_tuple *t;
	int deny;
};

static long filter_cb(__u32 i, void *data)
{
	struct filter_ctx *f = data;
	struct mapgw_filter_rule *r = bpf_map_lookup_elem(&mapgw_filter, &i);
	const struct nat_tuple *t = f->t;
	__u16 dport;

	if (!r || !r->used)
		return 1;
	if ((t->saddr & r->src_mask) != r->src || (t->daddr & r->dst_mask) != r->dst)
		return 0;
	if (r->proto && r->proto != t->proto)
		return 0;
	dport = bpf_ntohs(t->dport);
	if ((r->dport_lo || r->dport_hi != 0xffff) &&
	    (!t->has_ports || dport < r->dport_lo || dport > r->dport_hi))
		return 0;
	f->deny = r->action == 1;
	return 1;
}

/* The IPv4 packet filter (LAN -> WAN): first matching rule decides. */
static __always_inline bool ce_filter_denies(const struct nat_tuple *t)
{
	struct filter_ctx f = {.t = t};
	__u32 first = 0;
	struct mapgw_filter_rule *r = bpf_map_lookup_elem(&mapgw_filter, &first);

	if (!r || !r->used)
		return false; /* no filter: no loop */
	bpf_loop(MAPGW_MAX_FILTER_RULES, filter_cb, &f, 0);
	return f.deny;
}

static __always_inline bool ce_is_icmp_error(struct iphdr *ip, struct hdr_cursor *l4)
{
	struct icmp_query_hdr *q = l4->pos;

	return ip->protocol == MAPGW_IPPROTO_ICMP && !ipv4_is_later_fragment(ip) &&
	       (void *)(q + 1) <= l4->end && icmp_is_error(q->type);
}

struct ce_out_plan {
	struct br_target target; /* tunnel source and destination */
	struct nat_tuple t;
	__u16 ext_port;		 /* network order */
	__u8 icmp_error;
	__u8 fmr;
};

/* Everything outbound short of rewriting. */
static __always_inline enum mapgw_counter ce_plan_out(const struct mapgw_ce_config *cfg,
						      struct hdr_cursor *l4, struct iphdr *ip,
						      struct ce_out_plan *p, __u64 now)
{
	enum mapgw_counter why;

	p->icmp_error = ce_is_icmp_error(ip, l4);
	why = nat_tuple_of(ip, l4, true, &p->t);
	if (why != NAT_OK)
		return why;
	if (ce_filter_denies(&p->t))
		return MAPGW_CNT_DROP_PACKET_FILTER;
	if (!p->icmp_error && p->t.has_ports) {
		why = (enum mapgw_counter)nat_out(cfg, &p->t, now, &p->ext_port);
		if (why != NAT_OK)
			return why;
	}
	/* As the kernel's NAT, which reassembles first: a later fragment goes
	 * out only after its first fragment did. */
	if (ipv4_is_later_fragment(ip)) {
		if (!frag_find(ip, MAP_PORT_NAT_OUTBOUND))
			return MAPGW_CNT_DROP_FRAG_UNMATCHED;
	} else if (ipv4_is_fragment(ip)) {
		frag_remember(ip, MAP_PORT_NAT_OUTBOUND, 0);
	}
	why = br_target_for(l4, ip, &p->target);
	if (why == MAPGW_CNT_PASS_NOT_MAPPED) { /* not in an FMR: to the BR */
		p->target.ce = cfg->br_addr;
		p->target.br = cfg->ce_addr;
		p->fmr = 0;
		return NAT_OK;
	}
	p->fmr = 1;
	return why;
}

/* Source translation (or the ICMP error's), and MSS clamping on SYN. */
static __always_inline enum mapgw_counter ce_rewrite_out(const struct mapgw_ce_config *cfg,
							 struct iphdr *ip, void *l4, void *end,
							 const struct ce_out_plan *p)
{
	__u32 unused;

	if (p->icmp_error)
		return nat_icmp_error(cfg, ip, l4, end, false, &unused);
	if (nat_rewrite(ip, l4, end, true, cfg->ipv4, p->ext_port, p->t.has_ports))
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (p->t.proto == MAPGW_IPPROTO_TCP && p->t.has_ports &&
	    tcp_clamp_mss(l4, end, cfg->tunnel_mtu - 40))
		count(MAPGW_CNT_NAT_MSS_CLAMPED, 0);
	return NAT_OK;
}

struct ce_in_plan {
	struct nat_tuple t;
	__u32 in_addr;	/* network order */
	__u16 in_port;
	__u8 icmp_error;
	__u8 pad;
};

/*
 * Inbound: may this tunnel packet come in (from the BR, or from a CE of an
 * FMR passing the §8.1 check), is it for our address and port set, and
 * which inside endpoint gets it.
 */
static __always_inline enum mapgw_counter ce_plan_in(const struct mapgw_ce_config *cfg,
						     struct hdr_cursor *l4,
						     const struct ipv6hdr *ip6, struct iphdr *ip,
						     struct ce_in_plan *p, __u64 now)
{
	struct mapgw_frag_val *fv;
	struct mapgw_u128 src;
	enum mapgw_counter why;

	u128_from_in6(&src, &ip6->saddr);
	if (!mapgw_u128_eq(&src, &cfg->br_addr)) {
		why = br_check_from_ce(l4, ip6, ip, false);
		if (why == MAPGW_CNT_DROP_NO_RULE)
			return MAPGW_CNT_DROP_NOT_FROM_BR;
		if (why != BR_GO_ON)
			return why;
	}
	if (ip->daddr != cfg->ipv4)
		return MAPGW_CNT_DROP_NOT_OWN_ADDRESS;
	p->icmp_error = ce_is_icmp_error(ip, l4);
	if (p->icmp_error)
		return NAT_OK; /* its embedded packet finds the session */
	why = nat_tuple_of(ip, l4, false, &p->t);
	if (why != NAT_OK)
		return why;
	if (!p->t.has_ports) {
		fv = frag_find(ip, MAP_PORT_NAT_INBOUND);
		if (!fv)
			return MAPGW_CNT_DROP_FRAG_UNMATCHED;
		p->in_addr = fv->addr;
		return NAT_OK;
	}
	if (mapgw_port_to_index(cfg->psid_offset, cfg->psid_len, cfg->psid,
				bpf_ntohs(p->t.dport)) < 0)
		return MAPGW_CNT_DROP_NOT_OWN_PORT;
	why = (enum mapgw_counter)nat_in(cfg, &p->t, now, &p->in_addr, &p->in_port);
	if (why != NAT_OK)
		return why;
	if (ipv4_is_fragment(ip))
		frag_remember_both(ip, MAP_PORT_NAT_INBOUND, 0, p->in_addr);
	return NAT_OK;
}

static __always_inline enum mapgw_counter ce_rewrite_in(const struct mapgw_ce_config *cfg,
							struct iphdr *ip, void *l4, void *end,
							struct ce_in_plan *p)
{
	if (p->icmp_error)
		return nat_icmp_error(cfg, ip, l4, end, true, &p->in_addr);
	if (nat_rewrite(ip, l4, end, false, p->in_addr, p->in_port, p->t.has_ports))
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (p->t.proto == MAPGW_IPPROTO_TCP && p->t.has_ports &&
	    tcp_clamp_mss(l4, end, cfg->tunnel_mtu - 40))
		count(MAPGW_CNT_NAT_MSS_CLAMPED, 0);
	return NAT_OK;
}

/*
 * Hairpinning (RFC 4787 REQ-9): a LAN host to our own public address. The
 * source is translated as for any outbound packet, then the destination as
 * for an inbound one (filtering included), and the packet goes back to the
 * LAN without a tunnel.
 */
static __always_inline enum mapgw_counter ce_plan_hairpin(const struct mapgw_ce_config *cfg,
							  struct hdr_cursor *l4, struct iphdr *ip,
							  struct ce_out_plan *out,
							  struct ce_in_plan *in, __u64 now)
{
	enum mapgw_counter why = nat_tuple_of(ip, l4, true, &out->t);

	if (why != NAT_OK)
		return why;
	if (!out->t.has_ports || ce_is_icmp_error(ip, l4))
		return MAPGW_CNT_DROP_NAT_PROTOCOL;
	why = (enum mapgw_counter)nat_out(cfg, &out->t, now, &out->ext_port);
	if (why != NAT_OK)
		return why;
	in->t = out->t;
	in->t.saddr = cfg->ipv4;
	in->t.sport = out->ext_port;
	if (out->t.icmp_query)
		in->t.dport = out->ext_port;
	return (enum mapgw_counter)nat_in(cfg, &in->t, now, &in->in_addr, &in->in_port);
}

#endif /* MAPGW_CE_H */
