/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMPv6 Packet Too Big for a packet we encapsulated -> ICMPv4
 * "fragmentation needed" (type 3 code 4) to the IPv4 source of the embedded
 * packet, with MTU - 40 (RFC 7597 §8.3.1, RFC 2473 §8). Done in XDP because
 * the kernel has no tunnel that would know the original sender.
 *
 * In:  eth | IPv6 | ICMPv6 PTB | IPv6 (src = us, nh 4) | IPv4 | >= 8 bytes
 * Out: eth | IPv4 (src = our ICMP source) | ICMP 3/4 | IPv4 header + 8 bytes
 */
#ifndef MAPGW_ICMP_PTB_H
#define MAPGW_ICMP_PTB_H

#include "br.h"
#include "checksum.h"
#include "fib.h"

#define PTB_OUT_HDRS (MAPGW_ETH_HLEN + 20 + 8)
#define PTB_MAX_QUOTE (60 + 8)

struct icmp_frag_needed {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;
};

/* One's-complement sum of @len bytes (even, <= 8 + PTB_MAX_QUOTE) at @p. */
static __always_inline __u32 sum16_bounded(void *p, void *end, __u32 len)
{
	__u32 sum = 0;
	int i;

	for (i = 0; i < (8 + PTB_MAX_QUOTE) / 2; i++) {
		__u16 *w = p + i * 2;

		if ((__u32)i * 2 >= len || (void *)(w + 1) > end)
			break;
		sum += *w;
	}
	return sum;
}

/* Returns the XDP verdict; counts what it did. @c is at the ICMPv6 header. */
static __always_inline int br_ptb_to_frag_needed(struct xdp_md *ctx, struct hdr_cursor *c)
{
	void *data = (void *)(long)ctx->data;
	struct icmp6hdr *icmp6 = c->pos;
	struct mapgw_br_config *cfg;
	struct icmp_frag_needed *icmp;
	struct bpf_fib_lookup fib = {};
	struct ipv6hdr *e6;
	struct ethhdr *eth;
	struct iphdr *e4, *ip;
	__u32 mtu, quote_len, quote_off, key = 0;
	__be32 orig_src, icmp_src;
	int rc;

	if ((void *)(icmp6 + 1) > c->end || icmp6->icmp6_code != 0)
		return XDP_PASS;
	e6 = (void *)(icmp6 + 1);
	if ((void *)(e6 + 1) > c->end || e6->nexthdr != MAPGW_IPPROTO_IPIP ||
	    !br_is_own_address(&e6->saddr)) {
		count(MAPGW_CNT_PASS_LOCAL_IPV6, c->end - data);
		return XDP_PASS; /* about the kernel's own traffic */
	}
	e4 = (void *)(e6 + 1);
	if ((void *)(e4 + 1) > c->end || e4->ihl < 5) {
		count(MAPGW_CNT_DROP_ICMP_UNMATCHED, c->end - data);
		return XDP_DROP;
	}
	quote_len = e4->ihl * 4 + 8;
	if ((void *)e4 + quote_len > c->end) {
		count(MAPGW_CNT_DROP_ICMP_UNMATCHED, c->end - data);
		return XDP_DROP;
	}
	mtu = bpf_ntohl(icmp6->icmp6_dataun.un_data32[0]);
	mtu = mtu > 40 + 68 ? mtu - 40 : 68;
	if (mtu > 0xffff)
		mtu = 0xffff;
	orig_src = e4->saddr;
	cfg = bpf_map_lookup_elem(&mapgw_br_config, &key);
	icmp_src = cfg && cfg->icmp_src_ipv4 ? cfg->icmp_src_ipv4 : e4->daddr;
	quote_off = (void *)e4 - data;

	/* Route the reply before rewriting anything. */
	fib.family = MAPGW_AF_INET;
	fib.ifindex = ctx->ingress_ifindex;
	fib.ipv4_src = icmp_src;
	fib.ipv4_dst = orig_src;
	fib.l4_protocol = MAPGW_IPPROTO_ICMP;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		count(MAPGW_CNT_DROP_ICMP_NO_ROUTE, c->end - data);
		return XDP_DROP;
	}

	if (bpf_xdp_adjust_head(ctx, (int)quote_off - PTB_OUT_HDRS))
		goto adjust_failed;
	data = (void *)(long)ctx->data;
	if (bpf_xdp_adjust_tail(ctx, (int)(PTB_OUT_HDRS + quote_len) -
					 (int)bpf_xdp_get_buff_len(ctx)))
		goto adjust_failed;
	data = (void *)(long)ctx->data;
	eth = data;
	ip = data + MAPGW_ETH_HLEN;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > (void *)(long)ctx->data_end)
		goto adjust_failed;

	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	eth->h_proto = bpf_htons(MAPGW_ETH_P_IP);
	*(__u16 *)ip = bpf_htons(0x45c0); /* version 4, ihl 5, tos "internetwork control" */
	ip->tot_len = bpf_htons(20 + 8 + quote_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = MAPGW_IPPROTO_ICMP;
	ip->saddr = icmp_src;
	ip->daddr = orig_src;
	ip->check = ipv4_hdr_csum(ip);
	icmp->type = MAPGW_ICMP_DEST_UNREACH;
	icmp->code = MAPGW_ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(mtu);
	icmp->checksum = csum_fold32(sum16_bounded(icmp, (void *)(long)ctx->data_end, 8 + quote_len));

	count(MAPGW_CNT_BR_PTB_TRANSLATED, PTB_OUT_HDRS + quote_len);
	return bpf_redirect_map(&mapgw_tx_ports, fib.ifindex, XDP_PASS);

adjust_failed:
	count(MAPGW_CNT_DROP_ADJUST_FAILED, 0);
	return XDP_DROP;
}

#endif /* MAPGW_ICMP_PTB_H */
