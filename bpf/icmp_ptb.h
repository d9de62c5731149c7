/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMPv6 Packet Too Big for a packet we encapsulated -> ICMPv4
 * "fragmentation needed" (type 3 code 4) with MTU - 40 (RFC 7597 §8.3.1,
 * RFC 2473 §8). Done in XDP because the kernel has no tunnel that would
 * know the original sender. Used by the BR (reply to the IPv4 sender) and
 * the CE (reply to the inside host, after NAT of the quote).
 *
 * In:  eth | IPv6 | ICMPv6 PTB | IPv6 (src = us, nh 4) | IPv4 | >= 8 bytes
 * Out: eth | IPv4 | ICMP 3/4 | embedded IPv4 header + 8 bytes
 */
#ifndef MAPGW_ICMP_PTB_H
#define MAPGW_ICMP_PTB_H

#include "checksum.h"
#include "consts.h"
#include "counters.h"
#include "encap.h"
#include "parsing.h"

#define PTB_OUT_HDRS (MAPGW_ETH_HLEN + 20 + 8)
#define PTB_MAX_QUOTE (60 + 8)

struct icmp_frag_needed {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;
};

struct ptb_info {
	struct mapgw_u128 tunnel_src; /* source of the packet that was too big */
	__u32 quote_off;	      /* of the embedded IPv4 header in the frame */
	__u32 quote_len;	      /* its header + 8 bytes */
	__u32 mtu4;		      /* what to tell the IPv4 sender */
	__be32 orig_src;	      /* embedded IPv4 source and destination */
	__be32 orig_dst;
};

enum ptb_parse_result {
	PTB_OURS = 0,	  /* about an IPv4-in-IPv6 packet: translate it */
	PTB_NOT_TUNNEL = 1, /* about something else: leave it to the kernel */
	PTB_MALFORMED = 2,
	PTB_BAD_MTU = 3,  /* below 1280 (RFC 8201 §4), or no smaller than the packet it names */
};

/* @c is at the ICMPv6 header, which follows a plain IPv6 header at @l3_off. */
static __always_inline enum ptb_parse_result ptb_parse(__u32 l3_off, struct hdr_cursor *c,
						       struct ptb_info *pi)
{
	struct icmp6hdr *icmp6 = c->pos;
	struct ipv6hdr *e6;
	struct iphdr *e4;
	__u32 mtu;

	if ((void *)(icmp6 + 1) > c->end || icmp6->icmp6_code != 0)
		return PTB_NOT_TUNNEL;
	e6 = (void *)(icmp6 + 1);
	if ((void *)(e6 + 1) > c->end || e6->nexthdr != MAPGW_IPPROTO_IPIP)
		return PTB_NOT_TUNNEL;
	e4 = (void *)(e6 + 1);
	if ((void *)(e4 + 1) > c->end || e4->ihl < 5)
		return PTB_MALFORMED;
	pi->quote_len = e4->ihl * 4 + 8;
	if ((void *)e4 + pi->quote_len > c->end)
		return PTB_MALFORMED;
	/* Anyone on the path can send one: a path MTU below IPv6's minimum, or
	 * one the named packet would already fit, only shrinks a host's
	 * packets for nothing (IPv4 down to 68 bytes). */
	mtu = bpf_ntohl(icmp6->icmp6_dataun.un_data32[0]);
	if (mtu < MAPGW_IPV6_MIN_MTU || mtu >= MAPGW_IPV6_HLEN + (__u32)bpf_ntohs(e6->payload_len))
		return PTB_BAD_MTU;
	mtu -= MAPGW_IPV6_HLEN;
	pi->mtu4 = mtu > 0xffff ? 0xffff : mtu;
	u128_from_in6(&pi->tunnel_src, &e6->saddr);
	pi->quote_off = l3_off + MAPGW_IPV6_HLEN + 8 + MAPGW_IPV6_HLEN;
	pi->orig_src = e4->saddr;
	pi->orig_dst = e4->daddr;
	return PTB_OURS;
}

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

/*
 * Rebuild the frame in place as the ICMPv4 error @src -> @dst. The caller
 * fills in the Ethernet addresses. Returns the new IPv4 header or NULL.
 */
static __always_inline struct iphdr *ptb_rebuild(struct xdp_md *ctx, const struct ptb_info *pi,
						 __be32 src, __be32 dst)
{
	struct icmp_frag_needed *icmp;
	struct ethhdr *eth;
	struct iphdr *ip;
	void *data;

	if (bpf_xdp_adjust_head(ctx, (int)pi->quote_off - PTB_OUT_HDRS))
		return NULL;
	if (bpf_xdp_adjust_tail(ctx, (int)(PTB_OUT_HDRS + pi->quote_len) -
					 (int)bpf_xdp_get_buff_len(ctx)))
		return NULL;
	data = (void *)(long)ctx->data;
	eth = data;
	ip = data + MAPGW_ETH_HLEN;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > (void *)(long)ctx->data_end)
		return NULL;
	eth->h_proto = bpf_htons(MAPGW_ETH_P_IP);
	*(__u16 *)ip = bpf_htons(0x45c0); /* version 4, ihl 5, tos "internetwork control" */
	ip->tot_len = bpf_htons(20 + 8 + pi->quote_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = MAPGW_IPPROTO_ICMP;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = ipv4_hdr_csum(ip);
	icmp->type = MAPGW_ICMP_DEST_UNREACH;
	icmp->code = MAPGW_ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(pi->mtu4);
	icmp->checksum =
		csum_fold32(sum16_bounded(icmp, (void *)(long)ctx->data_end, 8 + pi->quote_len));
	return ip;
}

#endif /* MAPGW_ICMP_PTB_H */
