/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internet checksum helpers (RFC 1071, incremental updates per RFC 1624).
 * Everything works on the 16-bit one's-complement sum so XDP and TC code can
 * share it; TC code may also use the kernel's bpf_l3/l4_csum_replace.
 */
#ifndef MAPGW_CHECKSUM_H
#define MAPGW_CHECKSUM_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Fold a 64-bit accumulator (many 32-bit adds) into a checksum field. */
static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold32((__u32)sum);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field change. */
static __always_inline void csum_replace2(__sum16 *sum, __be16 old, __be16 new_val)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~old;
	s += new_val;
	*sum = csum_fold32(s);
}

static __always_inline void csum_replace4(__sum16 *sum, __be32 old, __be32 new_val)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~(old & 0xffff);
	s += (__u16)~(old >> 16);
	s += new_val & 0xffff;
	s += new_val >> 16;
	*sum = csum_fold32(s);
}

/* TTL - 1 with the checksum fixed up (the ip_decrease_ttl trick). */
static __always_inline void ipv4_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__sum16)(check + (check >= 0xFFFF));
	ip->ttl--;
}

/* Full header checksum of a 20-byte IPv4 header we built ourselves. */
static __always_inline __u16 ipv4_hdr_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	return csum_fold32(sum);
}

#endif /* MAPGW_CHECKSUM_H */
