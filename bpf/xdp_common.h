/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Small pieces every entry program uses: counting with a verdict, the
 * Ethernet rewrite after a FIB lookup, the devmap redirect, TC verdicts.
 */
#ifndef MAPGW_XDP_COMMON_H
#define MAPGW_XDP_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "consts.h"
#include "counters.h"
#include "maps_common.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

static __always_inline int xdp_count(enum mapgw_counter c, struct xdp_md *ctx, int verdict)
{
	/* A helper, not data_end - data: clang may merge the two context loads
	 * into one at a computed offset, which the verifier rejects. */
	count(c, bpf_xdp_get_buff_len(ctx));
	return verdict;
}

static __always_inline void eth_set(struct ethhdr *eth, const __u8 *smac, const __u8 *dmac,
				    __u16 proto)
{
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
}

/* Rewrite the Ethernet header after a FIB lookup. */
static __always_inline void eth_from_fib(struct ethhdr *eth, const struct bpf_fib_lookup *fib,
					 __u16 proto)
{
	eth_set(eth, fib->smac, fib->dmac, proto);
}

/* Through the devmap; an egress missing there falls back to the kernel. */
static __always_inline int xdp_redirect(struct xdp_md *ctx, __u32 ifindex)
{
	return bpf_redirect_map(&mapgw_tx_ports, ifindex, XDP_PASS);
}

#endif /* MAPGW_XDP_COMMON_H */
