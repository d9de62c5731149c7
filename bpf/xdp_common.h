/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Small pieces every entry program uses: counting with a verdict, the
 * Ethernet rewrite after a FIB lookup, the devmap redirect, TC verdicts and
 * the TC slow paths' decapsulation.
 */
#ifndef MAPGW_XDP_COMMON_H
#define MAPGW_XDP_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "consts.h"
#include "counters.h"
#include "encap.h"
#include "maps_common.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

/*
 * Removes the @outer_len bytes of outer IPv6 header (and any option header
 * skipped) of a tunnel packet at TC, leaving Ethernet + IPv4 with
 * skb->protocol IPv4. Returns 0, or -1 when the kernel refused
 * (the packet is then unchanged or unusable: drop it).
 *
 * BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (Linux 6.3 on) does it in one call. Debian
 * 12's 6.1 refuses the flag with -EINVAL before touching the packet, and a
 * plain shrink would not do: it keeps skb->protocol IPv6 and refuses to
 * leave less than an IPv6 header's 40 bytes (a small UDP datagram). There
 * bpf_skb_change_proto() drops 20 bytes after the MAC header and makes the
 * packet IPv4; a shrink by the other 20, now measured against IPv4, removes
 * the rest of the outer header.
 */
static __always_inline int tc_decap_to_ipv4(struct __sk_buff *skb, __u32 outer_len)
{
	__be16 ipv4 = bpf_htons(MAPGW_ETH_P_IP);
	int strip = (int)(outer_len & 0xff); /* 40, or 48 with an encapsulation limit */

	if (bpf_skb_adjust_room(skb, -strip, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_DECAP_L3_IPV4) &&
	    (bpf_skb_change_proto(skb, ipv4, 0) ||
	     bpf_skb_adjust_room(skb, -(strip - MAPGW_IPV4_HLEN), BPF_ADJ_ROOM_MAC, 0)))
		return -1;
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &ipv4, sizeof(ipv4), 0))
		return -1;
	return 0;
}

static __always_inline int xdp_count(enum mapgw_counter c, struct xdp_md *ctx, int verdict)
{
	/* A helper, not data_end - data: clang may merge the two context loads
	 * into one at a computed offset, which the verifier rejects. */
	count(c, bpf_xdp_get_buff_len(ctx));
	return verdict;
}

/* In 2-byte steps: a bpf_fib_lookup's MACs sit on the stack at 2-byte
 * offsets, and the verifier wants stack access naturally aligned. */
static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	__u16 *d = (__u16 *)dst;
	const __u16 *s = (const __u16 *)src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
}

static __always_inline void eth_set(struct ethhdr *eth, const __u8 *smac, const __u8 *dmac,
				    __u16 proto)
{
	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, smac);
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

/*
 * The tails every forwarding path ends with, in pieces: make room for
 * Ethernet + IPv6 in front of the IPv4 packet at @l3_off (push), or strip
 * Ethernet + IPv6 in front of the IPv4 packet at @l3_off + 40 (pull); the
 * caller writes the headers; send counts the frame as @what and sends it out
 * of @ifindex. Push and pull return the new frame with room for the headers
 * checked, or NULL (a counted drop).
 */
static __always_inline struct ethhdr *xdp_encap_push(struct xdp_md *ctx, __u32 l3_off)
{
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, (int)l3_off - (MAPGW_ETH_HLEN + MAPGW_IPV6_HLEN)))
		goto failed;
	eth = (void *)(long)ctx->data;
	if ((void *)eth + MAPGW_ETH_HLEN + MAPGW_IPV6_HLEN > (void *)(long)ctx->data_end)
		goto failed;
	return eth;
failed:
	xdp_count(MAPGW_CNT_DROP_ADJUST_FAILED, ctx, 0);
	return 0;
}

/* Drops what lies before the inner IPv4 header at @inner_off (the outer
 * IPv6 header and any option header skipped) and leaves room for an
 * Ethernet header in front of it. */
static __always_inline struct ethhdr *xdp_decap_pull(struct xdp_md *ctx, __u32 inner_off)
{
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, (int)inner_off - MAPGW_ETH_HLEN))
		goto failed;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		goto failed;
	return eth;
failed:
	xdp_count(MAPGW_CNT_DROP_ADJUST_FAILED, ctx, 0);
	return 0;
}

static __always_inline int xdp_send(struct xdp_md *ctx, __u32 ifindex, enum mapgw_counter what)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;

	count(what, data_end - data);
	return xdp_redirect(ctx, ifindex);
}

/* The full paths' tails: headers from a FIB answer. */
static __always_inline int xdp_encap_send(struct xdp_md *ctx, __u32 l3_off, int len, __u8 tos,
					  __u32 label, const struct mapgw_u128 *src,
					  const struct mapgw_u128 *dst,
					  const struct bpf_fib_lookup *fib, enum mapgw_counter what)
{
	struct ethhdr *eth = xdp_encap_push(ctx, l3_off);

	if (!eth)
		return XDP_DROP;
	eth_from_fib(eth, fib, MAPGW_ETH_P_IPV6);
	build_outer_ipv6((void *)(eth + 1), src, dst, tos, len, label);
	return xdp_send(ctx, fib->ifindex, what);
}

static __always_inline int xdp_decap_send(struct xdp_md *ctx, __u32 inner_off,
					  const struct bpf_fib_lookup *fib, enum mapgw_counter what)
{
	struct ethhdr *eth = xdp_decap_pull(ctx, inner_off);

	if (!eth)
		return XDP_DROP;
	eth_from_fib(eth, fib, MAPGW_ETH_P_IP);
	return xdp_send(ctx, fib->ifindex, what);
}

#endif /* MAPGW_XDP_COMMON_H */
