/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounds-checked header parsing with a cursor (xdp-tools style). Each
 * parse_*() checks that the whole header is inside the packet, advances the
 * cursor and returns the next protocol, or -1 when the header is truncated or
 * invalid. Policy code never does pointer arithmetic on packet data itself.
 * Works for XDP and TC alike: the cursor is built from data/data_end.
 */
#ifndef MAPGW_PARSING_H
#define MAPGW_PARSING_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "consts.h"

struct hdr_cursor {
	void *pos;
	void *end;
};

#define MAPGW_MAX_VLAN_DEPTH 2

/*
 * A 16-bit length field of a header, in host order, with a bound the
 * verifier can see. Every length or offset that moves a packet pointer comes
 * through here. Debian 12's 6.1 verifier treats a byte swap's result as an
 * unknown 64-bit value, and a later 32-bit compare bounds only its low half:
 * "math between pkt pointer and register with unbounded min value". The mask
 * gives it the bound; the empty asm stops clang from proving the mask
 * redundant (a 16-bit swap already clears the upper bits) and dropping it.
 * Costs one ALU instruction.
 */
static __always_inline __u32 pkt_len16(__be16 field)
{
	__u32 v = bpf_ntohs(field);

	asm volatile("" : "+r"(v));
	return v & 0xffff;
}

/* Ethernet, skipping up to two VLAN tags; returns the EtherType (host order). */
static __always_inline int parse_ethhdr(struct hdr_cursor *c, struct ethhdr **eth_out)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	*eth_out = eth;
	proto = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (i = 0; i < MAPGW_MAX_VLAN_DEPTH; i++) {
		if (proto != MAPGW_ETH_P_8021Q && proto != MAPGW_ETH_P_8021AD)
			break;
		vlh = c->pos;
		if ((void *)(vlh + 1) > c->end)
			return -1;
		c->pos = vlh + 1;
		proto = bpf_ntohs(vlh->h_vlan_encapsulated_proto);
	}
	return proto;
}

/* IPv4 with options; returns the protocol. Rejects ihl < 5 and version != 4. */
static __always_inline int parse_iphdr(struct hdr_cursor *c, struct iphdr **ip_out)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return -1;
	if (ip->version != 4 || ip->ihl < 5)
		return -1;
	hlen = ip->ihl * 4;
	if (c->pos + hlen > c->end)
		return -1;
	c->pos += hlen;
	*ip_out = ip;
	return ip->protocol;
}

/* Fixed IPv6 header; returns the next header (extension headers not walked). */
static __always_inline int parse_ipv6hdr(struct hdr_cursor *c, struct ipv6hdr **ip6_out)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > c->end)
		return -1;
	if (ip6->version != 6)
		return -1;
	c->pos = ip6 + 1;
	*ip6_out = ip6;
	return ip6->nexthdr;
}

/* Does the packet hold all of the IPv6 payload the header announces, in the
 * @after bytes that follow the header (a jumbogram's zero is not ours)? The
 * kernel drops what does not (ipv6_rcv); decapsulated, it would turn into
 * bytes nobody sent. */
static __always_inline bool ipv6_payload_within(const struct ipv6hdr *ip6, __u32 after)
{
	__u32 plen = pkt_len16(ip6->payload_len);

	return plen != 0 && plen <= after;
}

static __always_inline int parse_udphdr(struct hdr_cursor *c, struct udphdr **udp_out)
{
	struct udphdr *udp = c->pos;

	if ((void *)(udp + 1) > c->end)
		return -1;
	c->pos = udp + 1;
	*udp_out = udp;
	return 0;
}

/* TCP including options (doff); rejects doff < 5. */
static __always_inline int parse_tcphdr(struct hdr_cursor *c, struct tcphdr **tcp_out)
{
	struct tcphdr *tcp = c->pos;
	__u32 hlen;

	if ((void *)(tcp + 1) > c->end)
		return -1;
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || c->pos + hlen > c->end)
		return -1;
	c->pos += hlen;
	*tcp_out = tcp;
	return 0;
}

/* ICMP (v4) header: type, code, checksum and the 4-byte rest (id/seq). */
static __always_inline int parse_icmphdr(struct hdr_cursor *c, struct icmphdr **icmp_out)
{
	struct icmphdr *icmp = c->pos;

	if ((void *)(icmp + 1) > c->end)
		return -1;
	c->pos = icmp + 1;
	*icmp_out = icmp;
	return icmp->type;
}

#endif /* MAPGW_PARSING_H */
