/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which transport identifier selects the CE of a shared IPv4 address
 * (RFC 7597 §5.1, §8; RFC 5508 for ICMP): the TCP/UDP port, the ICMP query
 * identifier, or, in an ICMP error, the identifier inside the embedded
 * packet. "Towards the CE" the CE's port is the destination (or the embedded
 * source); "from the CE" it is the source (or the embedded destination).
 */
#ifndef MAPGW_MAP_PORT_H
#define MAPGW_MAP_PORT_H

#include "parsing.h"

enum map_port_dir {
	MAP_PORT_TOWARDS_CE = 0,
	MAP_PORT_FROM_CE = 1,
	MAP_PORT_NAT_INBOUND = 2, /* fragment key space of the CE's reverse NAT */
	MAP_PORT_NAT_OUTBOUND = 3, /* ... and of its outbound NAT */
};

enum map_port_result {
	MAP_PORT_OK = 0,
	MAP_PORT_NONE = 1,	/* protocol has no port (GRE, ESP, ...) */
	MAP_PORT_MALFORMED = 2, /* truncated L4 or embedded header */
};

struct l4_ports {
	__be16 source;
	__be16 dest;
};

struct icmp_query_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 seq;
};

static __always_inline bool icmp_is_query(__u8 type)
{
	/* echo reply/request, timestamp, information, address mask */
	return type == 0 || type == 8 || type == 13 || type == 14 || type == 15 || type == 16 ||
	       type == 17 || type == 18;
}

static __always_inline bool icmp_is_error(__u8 type)
{
	/* unreachable, source quench, redirect, time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Port of a TCP/UDP header or ICMP query, @take_src choosing the side. */
static __always_inline int l4_port(struct hdr_cursor *c, __u8 proto, bool take_src, __u16 *port)
{
	if (proto == MAPGW_IPPROTO_TCP || proto == MAPGW_IPPROTO_UDP) {
		struct l4_ports *p = c->pos;

		if ((void *)(p + 1) > c->end)
			return MAP_PORT_MALFORMED;
		*port = bpf_ntohs(take_src ? p->source : p->dest);
		return MAP_PORT_OK;
	}
	if (proto == MAPGW_IPPROTO_ICMP) {
		struct icmp_query_hdr *q = c->pos;

		if ((void *)(q + 1) > c->end)
			return MAP_PORT_MALFORMED;
		if (!icmp_is_query(q->type))
			return MAP_PORT_NONE;
		*port = bpf_ntohs(q->id);
		return MAP_PORT_OK;
	}
	return MAP_PORT_NONE;
}

/*
 * The identifier that selects the CE, for a packet whose IPv4 header has
 * been parsed and whose cursor sits at L4. Not for non-first fragments.
 */
static __always_inline int map_port(struct hdr_cursor *c, __u8 proto, enum map_port_dir dir,
				    __u16 *port)
{
	struct icmp_query_hdr *icmp = c->pos;
	struct hdr_cursor inner;
	struct iphdr *eip;
	int eproto;

	if (proto != MAPGW_IPPROTO_ICMP)
		return l4_port(c, proto, dir == MAP_PORT_FROM_CE, port);
	if ((void *)(icmp + 1) > c->end)
		return MAP_PORT_MALFORMED;
	if (icmp_is_query(icmp->type)) {
		*port = bpf_ntohs(icmp->id);
		return MAP_PORT_OK;
	}
	if (!icmp_is_error(icmp->type))
		return MAP_PORT_NONE;
	/* The embedded packet travelled the other way: flip the side. */
	inner.pos = icmp + 1;
	inner.end = c->end;
	eproto = parse_iphdr(&inner, &eip);
	if (eproto < 0)
		return MAP_PORT_MALFORMED;
	if (eip->frag_off & bpf_htons(MAPGW_IP_OFFSET))
		return MAP_PORT_NONE;
	return l4_port(&inner, (__u8)eproto, dir == MAP_PORT_TOWARDS_CE, port);
}

#endif /* MAPGW_MAP_PORT_H */
