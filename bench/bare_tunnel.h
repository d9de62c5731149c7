/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The bare encapsulation both reference programs do (cost.bpf.c's
 * cost_encap for test-run, bench.bpf.c's bench_encap for packet rates): a
 * constant MAP-E-sized outer IPv6 header, no lookup, no check. */
#ifndef MAPGW_BENCH_BARE_TUNNEL_H
#define MAPGW_BENCH_BARE_TUNNEL_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>

/* Fill @ip6 for an inner IPv4 packet of @inner_len bytes. */
static __always_inline void bare_outer_ipv6(struct ipv6hdr *ip6, __u16 inner_len)
{
	__builtin_memset(ip6, 0, sizeof(*ip6));
	ip6->version = 6;
	ip6->flow_lbl[2] = 1;
	ip6->payload_len = bpf_htons(inner_len);
	ip6->nexthdr = 4;
	ip6->hop_limit = 64;
	ip6->saddr.in6_u.u6_addr32[0] = bpf_htonl(0x20010db8);
	ip6->saddr.in6_u.u6_addr32[3] = bpf_htonl(1);
	ip6->daddr.in6_u.u6_addr32[0] = bpf_htonl(0x240b0010);
	ip6->daddr.in6_u.u6_addr32[3] = bpf_htonl(0xef00);
}

#endif /* MAPGW_BENCH_BARE_TUNNEL_H */
