// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Kernel-path BR encapsulation: BR address -> one CE address. */
#include "lwt_encap.h"

SEC("lwt_xmit")
int bench_lwt_br(struct __sk_buff *skb)
{
	const struct ipv6hdr h = {.version = 6, .nexthdr = 4, .hop_limit = 64,
				  .saddr.in6_u.u6_addr8 = BENCH_BR_ADDR,
				  .daddr.in6_u.u6_addr8 = BENCH_CE_ADDR};

	return lwt_push_ipv6(skb, &h);
}
