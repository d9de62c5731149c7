/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors through the NAT (RFC 5508 §4.2, REQ-3/4): the error carries
 * the start of the packet it is about, which travelled the other way. The
 * outer packet is translated like any other; inside, the mirrored endpoint
 * (embedded source for inbound errors, embedded destination for outbound
 * ones) gets the inside/outside address and port, and every checksum that
 * covers a changed field is updated: the embedded IPv4 header's, the
 * embedded transport checksum when it is in the packet, and the outer ICMP
 * checksum, which covers all of them.
 */
#ifndef MAPGW_ICMP_NAT_H
#define MAPGW_ICMP_NAT_H

#include "nat.h"

/* Rewrite the embedded endpoint and fix the checksums the change touches. */
static __always_inline int icmp_embedded_rewrite(struct icmp_query_hdr *icmp, struct iphdr *eip,
						 void *el4, void *end, bool rewrite_src,
						 __u32 new_addr, __u16 new_port)
{
	__u32 old_addr = rewrite_src ? eip->saddr : eip->daddr;
	__u16 old_ipcheck = eip->check, old_port, old_l4check;
	__u16 *port, *l4check = NULL;

	csum_replace4(&eip->check, old_addr, new_addr);
	if (rewrite_src)
		eip->saddr = new_addr;
	else
		eip->daddr = new_addr;
	csum_replace4(&icmp->checksum, old_addr, new_addr);
	csum_replace2(&icmp->checksum, old_ipcheck, eip->check);

	if (eip->protocol == MAPGW_IPPROTO_ICMP) {
		struct icmp_query_hdr *q = el4;

		if ((void *)(q + 1) > end)
			return -1;
		old_port = q->id;
		old_l4check = q->checksum;
		q->id = new_port;
		csum_replace2(&q->checksum, old_port, new_port);
		csum_replace2(&icmp->checksum, old_port, new_port);
		csum_replace2(&icmp->checksum, old_l4check, q->checksum);
		return 0;
	}
	if (eip->protocol == MAPGW_IPPROTO_UDP) {
		struct udphdr *u = el4;

		if ((void *)(u + 1) > end)
			return -1;
		port = rewrite_src ? &u->source : &u->dest;
		l4check = u->check ? &u->check : NULL;
	} else {
		struct tcphdr *tcp = el4;

		if (el4 + 8 > end)
			return -1;
		port = rewrite_src ? &tcp->source : &tcp->dest;
		/* Only the first 8 bytes are guaranteed to be quoted. */
		if ((void *)&tcp->check + sizeof(tcp->check) <= end)
			l4check = &tcp->check;
	}
	old_port = *port;
	*port = new_port;
	csum_replace2(&icmp->checksum, old_port, new_port);
	if (l4check) {
		old_l4check = *l4check;
		csum_replace4(l4check, old_addr, new_addr);
		csum_replace2(l4check, old_port, new_port);
		if (eip->protocol == MAPGW_IPPROTO_UDP && !*l4check)
			*l4check = 0xffff;
		csum_replace2(&icmp->checksum, old_l4check, *l4check);
	}
	return 0;
}

/*
 * Translate an ICMP error at @icmp (outer IPv4 header @ip). Inbound: the
 * embedded packet went from our external endpoint to a remote one; it is
 * rewritten back to the inside endpoint and the outer destination becomes
 * the inside host. Outbound: the embedded packet came from a remote to an
 * inside endpoint; both become our external endpoint.
 * Returns NAT_OK or a drop counter; *in_addr is the inside host (inbound).
 */
static __always_inline enum mapgw_counter nat_icmp_error(const struct mapgw_ce_config *cfg,
							 struct iphdr *ip,
							 struct icmp_query_hdr *icmp, void *end,
							 bool inbound, __u32 *in_addr)
{
	struct hdr_cursor c = {.pos = icmp + 1, .end = end};
	struct mapgw_nat_rsess_key rk = {};
	struct mapgw_nat_sess_key sk = {};
	struct mapgw_nat_rsess *r;
	struct mapgw_nat_sess *s;
	struct iphdr *eip;
	int eproto;
	__u16 *ports, own_port, remote_port;

	eproto = parse_iphdr(&c, &eip);
	if (eproto < 0)
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (ipv4_is_later_fragment(eip) ||
	    (eproto != MAPGW_IPPROTO_TCP && eproto != MAPGW_IPPROTO_UDP &&
	     eproto != MAPGW_IPPROTO_ICMP))
		return MAPGW_CNT_DROP_NAT_PROTOCOL;
	ports = c.pos;
	if ((void *)(ports + 4) > end) /* 8 bytes: ports (or ICMP id) and checksum */
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (eproto == MAPGW_IPPROTO_ICMP) {
		own_port = ports[2]; /* identifier */
		remote_port = 0;
	} else {
		own_port = inbound ? ports[0] : ports[1];
		remote_port = inbound ? ports[1] : ports[0];
	}

	if (inbound) {
		if (eip->saddr != cfg->ipv4 || ip->daddr != cfg->ipv4)
			return MAPGW_CNT_DROP_NOT_OWN_ADDRESS;
		rk.rem_addr = eip->daddr;
		rk.ext_port = own_port;
		rk.rem_port = remote_port;
		rk.proto = (__u8)eproto;
		r = bpf_map_lookup_elem(&mapgw_nat_rsessions, &rk);
		if (!r)
			return MAPGW_CNT_DROP_NAT_NO_MAPPING;
		*in_addr = r->in_addr;
		if (icmp_embedded_rewrite(icmp, eip, c.pos, end, true, r->in_addr, r->in_port))
			return MAPGW_CNT_DROP_MALFORMED_L4;
		csum_replace4(&ip->check, ip->daddr, r->in_addr);
		ip->daddr = r->in_addr;
		return NAT_OK;
	}
	sk.in_addr = eip->daddr;
	sk.rem_addr = eip->saddr;
	sk.in_port = own_port;
	sk.rem_port = remote_port;
	sk.proto = (__u8)eproto;
	s = bpf_map_lookup_elem(&mapgw_nat_sessions, &sk);
	if (!s)
		return MAPGW_CNT_DROP_NAT_NO_MAPPING;
	if (icmp_embedded_rewrite(icmp, eip, c.pos, end, false, cfg->ipv4, s->ext_port))
		return MAPGW_CNT_DROP_MALFORMED_L4;
	csum_replace4(&ip->check, ip->saddr, cfg->ipv4);
	ip->saddr = cfg->ipv4;
	return NAT_OK;
}

#endif /* MAPGW_ICMP_NAT_H */
