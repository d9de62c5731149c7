// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mapgw_classify: the first, smallest mapgw program. It parses each frame
 * with the shared parsing helpers and counts it by class (IPv4, IPv6,
 * IPv4-in-IPv6, malformed at which layer). It never changes a packet and
 * always passes it on, so it is safe to attach anywhere as a probe; the test
 * suite uses it to prove the build, loader and test-run plumbing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "counters.h"
#include "parsing.h"

static __always_inline enum mapgw_counter classify_l4(struct hdr_cursor *c, int proto)
{
	struct tcphdr *tcp;
	struct udphdr *udp;
	struct icmphdr *icmp;

	if (proto == MAPGW_IPPROTO_TCP && parse_tcphdr(c, &tcp) < 0)
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (proto == MAPGW_IPPROTO_UDP && parse_udphdr(c, &udp) < 0)
		return MAPGW_CNT_DROP_MALFORMED_L4;
	if (proto == MAPGW_IPPROTO_ICMP && parse_icmphdr(c, &icmp) < 0)
		return MAPGW_CNT_DROP_MALFORMED_L4;
	return MAPGW_CNT_MAX; /* no verdict: caller decides */
}

static __always_inline enum mapgw_counter classify(struct hdr_cursor *c)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct ipv6hdr *ip6;
	enum mapgw_counter l4;
	int proto;

	proto = parse_ethhdr(c, &eth);
	if (proto < 0)
		return MAPGW_CNT_DROP_MALFORMED_L2;
	if (proto == MAPGW_ETH_P_IP) {
		proto = parse_iphdr(c, &ip);
		if (proto < 0)
			return MAPGW_CNT_DROP_MALFORMED_IPV4;
		l4 = classify_l4(c, proto);
		return l4 != MAPGW_CNT_MAX ? l4 : MAPGW_CNT_RX_IPV4;
	}
	if (proto != MAPGW_ETH_P_IPV6)
		return MAPGW_CNT_RX_NON_IP;
	proto = parse_ipv6hdr(c, &ip6);
	if (proto < 0)
		return MAPGW_CNT_DROP_MALFORMED_IPV6;
	if (proto != MAPGW_IPPROTO_IPIP)
		return MAPGW_CNT_RX_IPV6;
	proto = parse_iphdr(c, &ip);
	if (proto < 0)
		return MAPGW_CNT_DROP_MALFORMED_IPV4;
	l4 = classify_l4(c, proto);
	return l4 != MAPGW_CNT_MAX ? l4 : MAPGW_CNT_RX_IPV4_IN_IPV6;
}

SEC("xdp")
int mapgw_classify(struct xdp_md *ctx)
{
	struct hdr_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};

	count(classify(&c), ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
