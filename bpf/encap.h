/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The MAP-E outer header (RFC 7597 §8, RFC 2473): a plain IPv6 header,
 * next header 4, hop limit 64, traffic class copied from the inner TOS,
 * flow label from a hash of the inner flow, and no encapsulation-limit
 * option. Also the u128 <-> in6_addr conversions the MAP math needs.
 */
#ifndef MAPGW_ENCAP_H
#define MAPGW_ENCAP_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>

#include "consts.h"
#include "map_math.h"

#define MAPGW_ENCAP_HOP_LIMIT 64
#define MAPGW_ETH_HLEN 14
#define MAPGW_IPV6_HLEN 40
#define MAPGW_IPV6_MIN_MTU 1280
#define MAPGW_IPV4_HLEN 20

static __always_inline void u128_from_in6(struct mapgw_u128 *out, const struct in6_addr *a)
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, &a->in6_u.u6_addr8[0], 8);
	__builtin_memcpy(&lo, &a->in6_u.u6_addr8[8], 8);
	out->hi = bpf_be64_to_cpu(hi);
	out->lo = bpf_be64_to_cpu(lo);
}

static __always_inline void u128_to_in6(struct in6_addr *a, const struct mapgw_u128 *v)
{
	__u64 hi = bpf_cpu_to_be64(v->hi), lo = bpf_cpu_to_be64(v->lo);

	__builtin_memcpy(&a->in6_u.u6_addr8[0], &hi, 8);
	__builtin_memcpy(&a->in6_u.u6_addr8[8], &lo, 8);
}

/* murmur3 finaliser: a cheap, well-mixed 32-bit hash (NAT port search start, route-cache set). */
static __always_inline __u32 hash_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/*
 * Stores into packets are word-sized at any alignment: the verifier allows
 * unaligned packet access where the CPU has it (x86-64, arm64), and a
 * memcpy into a byte array would make clang split every byte (the outer
 * header took 70 instructions that way, 12 now).
 */
static __always_inline void ipv6_addr_store(struct in6_addr *a, const struct mapgw_u128 *v)
{
	__u64 *w = (__u64 *)a;

	w[0] = bpf_cpu_to_be64(v->hi);
	w[1] = bpf_cpu_to_be64(v->lo);
}

/* The outer header's first eight bytes: version, traffic class, flow label,
 * payload length, next header, hop limit. */
static __always_inline void outer_ipv6_fixed(struct ipv6hdr *ip6, __u8 tos, __u16 inner_len,
					     __u32 label)
{
	__be32 *w = (__be32 *)ip6;

	w[0] = bpf_htonl(6U << 28 | (__u32)tos << 20 | (label & 0xfffff));
	w[1] = bpf_htonl((__u32)inner_len << 16 | MAPGW_IPPROTO_IPIP << 8 | MAPGW_ENCAP_HOP_LIMIT);
}

/* Fill an outer IPv6 header for an inner IPv4 packet of @inner_len bytes. */
static __always_inline void build_outer_ipv6(struct ipv6hdr *ip6, const struct mapgw_u128 *src,
					     const struct mapgw_u128 *dst, __u8 tos,
					     __u16 inner_len, __u32 label)
{
	outer_ipv6_fixed(ip6, tos, inner_len, label);
	ipv6_addr_store(&ip6->saddr, src);
	ipv6_addr_store(&ip6->daddr, dst);
}

/* A tunnel's two addresses, source then destination as in an IPv6 header
 * (and a BR flow copy), copied or compared as four words: one branch for
 * both. */
static __always_inline void ipv6_addr_pair_copy(struct in6_addr to[2],
						const struct in6_addr from[2])
{
	__u64 *t = (__u64 *)to;
	const __u64 *f = (const __u64 *)from;

	t[0] = f[0];
	t[1] = f[1];
	t[2] = f[2];
	t[3] = f[3];
}

static __always_inline bool ipv6_addr_pair_same(const struct in6_addr a[2],
						const struct in6_addr b[2])
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/* @a is the address whose 16 bytes are at @b (e.g. a rule's, in a map
 * value: 4-byte aligned, hence 32-bit words). */
static __always_inline bool ipv6_addr_same(const struct in6_addr *a, const __u8 b[16])
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

_Static_assert(__builtin_offsetof(struct ipv6hdr, daddr) ==
		   __builtin_offsetof(struct ipv6hdr, saddr) + sizeof(struct in6_addr),
	       "an IPv6 header's addresses are a pair");

#endif /* MAPGW_ENCAP_H */
