/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flow key as three 64-bit words and the hash of its first two: shared by
 * the flow caches (flow_cache.h, which gives the words their layout), the
 * receive spreading (spread.h) and the benchmarks' least-path floor
 * (bench/least_path.h), which must hash as the caches do. No maps.
 */
#ifndef MAPGW_FLOW_HASH_H
#define MAPGW_FLOW_HASH_H

#include "vmlinux.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "flow_words assumes a little-endian target"
#endif
struct flow_words {
	__u64 w0, w1, w2;
};

/*
 * The hash that picks a key's set: its first two words, (src, dst) and
 * (ports, proto/tos/dir); the ingress device is compared, not hashed. Two
 * independent multiplies (the CPU runs them side by side), the product's
 * high half folded into its low half, one more multiply, its high half. A
 * multiply carries only upwards, and network-order words loaded on a
 * little-endian CPU carry their most variable bytes (an address's last
 * octet, a port's low byte) at the top of each 32-bit half: the fold brings
 * them down before the last multiply spreads them into every result bit.
 * (It replaced a 32-bit multiply per word and a murmur3 finaliser: 20 fewer
 * instructions per packet; set spread and distinct labels for 10 k bench
 * and random flows are those of a random function.)
 */
static __always_inline __u32 flow_hash(struct flow_words k)
{
	__u64 h = k.w0 * 0x9e3779b97f4a7c15ULL + k.w1 * 0xc2b2ae3d27d4eb4fULL;

	h ^= h >> 32;
	h *= 0x165667b19e3779f9ULL;
	return h >> 32;
}

#endif /* MAPGW_FLOW_HASH_H */
