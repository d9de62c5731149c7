/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The bare tunnel work the reference programs do (cost.bpf.c for test-run,
 * bench.bpf.c for packet rates): a constant MAP-E-sized outer IPv6 header
 * pushed, or an outer IPv6 header popped; no lookup, no check. */
#ifndef MAPGW_BENCH_BARE_TUNNEL_H
#define MAPGW_BENCH_BARE_TUNNEL_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

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

/* Pop the outer IPv6 header of an Ethernet + IPv6 + IPv4 frame. Returns the
 * new Ethernet header (MACs and type still to write), or NULL: not that
 * frame, or the head could not move. */
static __always_inline struct ethhdr *bare_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	if ((void *)(ip6 + 1) > end || ip6->nexthdr != 4)
		return 0;
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*ip6)))
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > end)
		return 0;
	return data;
}

#endif /* MAPGW_BENCH_BARE_TUNNEL_H */
