/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the kernel's IPv4 input refuses before it routes a packet
 * (ip_rcv_core, ip_rcv_options, ip_route_input_slow), refused by the XDP
 * paths that route instead of it: a fast path must not be weaker than the
 * path it replaces. The TC slow paths hand their packets to that input and
 * need none of this.
 */
#ifndef MAPGW_IPV4_CHECKS_H
#define MAPGW_IPV4_CHECKS_H

#include "vmlinux.h"

#include "checksum.h"
#include "mapgw_abi.h"

#define IPV4_OK MAPGW_CNT_MAX

/* Does the checksum of the 20-byte header at @ip (inside the packet: the
 * caller checked) verify? Five 32-bit adds: the one's-complement sum does
 * not care how the words are cut. */
static __always_inline bool ipv4_csum_ok(const struct iphdr *ip)
{
	const __u32 *w = (const void *)ip;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	return csum_fold64(sum) == 0;
}

/* 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) and 240/4
 * (reserved, and the limited broadcast): never the source of a packet a
 * router forwards (RFC 1812 §5.3.7; the kernel's martian sources). */
static __always_inline bool ipv4_martian_source(__be32 saddr)
{
	__u8 first = ((const __u8 *)&saddr)[0];

	return first == 0 || first == 127 || first >= 224;
}

/* A header the XDP paths may route: without options (a source route, or
 * any option the kernel would act on, goes to the kernel: PUNT), with a
 * checksum that verifies, from a source that is not martian. Returns
 * IPV4_OK or the counter naming why not. @ip: at least 20 bytes inside. */
static __always_inline enum mapgw_counter ipv4_routable(const struct iphdr *ip)
{
	if (ip->ihl != 5)
		return MAPGW_CNT_PUNT_IPV4_OPTIONS;
	if (!ipv4_csum_ok(ip))
		return MAPGW_CNT_DROP_IPV4_CHECKSUM;
	if (ipv4_martian_source(ip->saddr))
		return MAPGW_CNT_DROP_MARTIAN_SOURCE;
	return IPV4_OK;
}

/* The XDP verdict for a refusal of ipv4_routable(). */
static __always_inline int ipv4_refusal_verdict(enum mapgw_counter why)
{
	return why == MAPGW_CNT_PUNT_IPV4_OPTIONS ? XDP_PASS : XDP_DROP;
}

#endif /* MAPGW_IPV4_CHECKS_H */
