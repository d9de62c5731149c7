/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * FIB lookups for both hooks and what each result means for us: forward,
 * punt to the kernel (which can resolve neighbours, fragment and send ICMP),
 * or drop because the route says so.
 */
#ifndef MAPGW_FIB_H
#define MAPGW_FIB_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "consts.h"
#include "counters.h"
#include "encap.h"
#include "route_cache.h"

#define FIB_FORWARD MAPGW_CNT_MAX

static __always_inline void fib_prepare6(struct bpf_fib_lookup *fib, __u32 ifindex,
					 const struct mapgw_u128 *src,
					 const struct mapgw_u128 *dst, __u16 tot_len)
{
	fib->family = MAPGW_AF_INET6;
	fib->ifindex = ifindex;
	fib->tot_len = tot_len;
	fib->l4_protocol = MAPGW_IPPROTO_IPIP;
	u128_to_in6((struct in6_addr *)fib->ipv6_src, src);
	u128_to_in6((struct in6_addr *)fib->ipv6_dst, dst);
}

static __always_inline void fib_prepare4(struct bpf_fib_lookup *fib, __u32 ifindex,
					 const struct iphdr *ip, __u16 tot_len)
{
	fib->family = MAPGW_AF_INET;
	fib->ifindex = ifindex;
	fib->tot_len = tot_len;
	fib->tos = ip->tos;
	fib->l4_protocol = ip->protocol;
	fib->ipv4_src = ip->saddr;
	fib->ipv4_dst = ip->daddr;
}

/* Translate a bpf_fib_lookup() result for the XDP fast path. */
static __always_inline enum mapgw_counter fib_verdict(int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		return FIB_FORWARD;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return MAPGW_CNT_PUNT_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return MAPGW_CNT_PUNT_FRAG_NEEDED;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return MAPGW_CNT_DROP_FIB_UNREACHABLE;
	default: /* not forwarded, forwarding disabled, lwt, ... */
		return MAPGW_CNT_PUNT_FIB_OTHER;
	}
}

static __always_inline bool counter_is_drop(enum mapgw_counter c)
{
	return c == MAPGW_CNT_DROP_FIB_UNREACHABLE;
}

#endif /* MAPGW_FIB_H */
