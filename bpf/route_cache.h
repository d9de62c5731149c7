/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A per-CPU cache in front of bpf_fib_lookup(). A FIB lookup is the largest
 * single cost of a forwarded packet (a third of it on the CE, measured with
 * perf), yet the answer for a tunnel endpoint rarely changes.
 *
 * Four-way set associative: the lookup's inputs hash to one set of four
 * entries (one map lookup), each holding a successful answer; a new answer
 * replaces an unusable entry or the oldest. An entry is used only while
 *   - its epoch is the current one (the agent moves the epoch on any route,
 *     neighbour, address, link or ip-rule change: netlink tells it), and
 *   - it is younger than a second (what netlink does not announce,
 *     such as a learned path MTU, is picked up within that time), and
 *   - the packet is no longer than one already forwarded this way (the
 *     kernel's MTU check keeps its say on growth).
 * Failed lookups are never cached: they take the kernel's slow path anyway.
 * The inputs are family, flags, ingress device, TOS, L4 protocol and both
 * addresses, so ip rules on those are honoured; rules on fwmark or ports,
 * and multipath hashing on ports, see one answer per address pair.
 */
#ifndef MAPGW_ROUTE_CACHE_H
#define MAPGW_ROUTE_CACHE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "consts.h"
#include "encap.h"
#include "mapgw_abi.h"

#ifndef MAPGW_ROUTE_CACHE_SETS
#define MAPGW_ROUTE_CACHE_SETS 4096 /* per CPU, 256 bytes each (1 MiB); a power of two */
#endif
#define ROUTE_CACHE_WAYS 4

/* Ages in jiffies: the verifier inlines bpf_jiffies64() into one load,
 * where a clock helper call costs ~13 ns a packet (bench/prog_cost).
 * kernel_hz is CONFIG_HZ, set by the loader (loader/kernel_hz.h): a
 * __kconfig extern would fail the load wherever no kernel config is
 * readable. Left at 0, every cached answer is already stale (correct, slow). */
const volatile __u32 kernel_hz = 0;

/* Whether the kernel takes BPF_FIB_LOOKUP_SKIP_NEIGH (Linux 6.3 on; Debian
 * 12's 6.1 answers -EINVAL). Set by the loader from a probe
 * (loader/kernel_features.h); a constant, so the verifier drops the branch
 * this kernel does not need. */
const volatile bool kernel_fib_skip_neigh = true;

/*
 * bpf_fib_lookup() with BPF_FIB_LOOKUP_SKIP_NEIGH honoured on every kernel.
 * Without the flag the kernel also looks the neighbour up; NO_NEIGH then
 * means what SUCCESS means with it (a route, its device; the neighbour is
 * not looked at), and a caller that skips neighbours uses no MAC.
 */
static __always_inline long fib_lookup(void *ctx, struct bpf_fib_lookup *fib, __u32 flags)
{
	long rc;

	if (kernel_fib_skip_neigh || !(flags & BPF_FIB_LOOKUP_SKIP_NEIGH))
		return bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), flags & ~BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc == BPF_FIB_LKUP_RET_NO_NEIGH ? BPF_FIB_LKUP_RET_SUCCESS : rc;
}

struct route_cache_key {
	__u32 addr[8]; /* source, destination (IPv4: words 0 and 4) */
	__u32 iif;
	__u8 family;
	__u8 flags;
	__u8 tos;
	__u8 proto;
};

/* One cache line. Egress devices above ifindex 65535 are not cached. */
struct route_cache_entry {
	struct route_cache_key key;
	__u32 filled;	/* jiffies (low 32 bits) */
	__u32 epoch;
	__u16 ifindex;
	__u16 max_len;
	__u8 smac[6];
	__u8 dmac[6];
};

struct route_cache_set {
	struct route_cache_entry way[ROUTE_CACHE_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAPGW_ROUTE_CACHE_SETS);
	__type(key, __u32);
	__type(value, struct route_cache_set);
} mapgw_route_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mapgw_route_ctl);
} mapgw_route_ctl SEC(".maps");

static __always_inline void route_key_of(struct route_cache_key *k, const struct bpf_fib_lookup *fib,
					 __u32 flags)
{
	if (fib->family == MAPGW_AF_INET6) {
		__builtin_memcpy(&k->addr[0], fib->ipv6_src, 16);
		__builtin_memcpy(&k->addr[4], fib->ipv6_dst, 16);
	} else {
		k->addr[0] = fib->ipv4_src;
		k->addr[4] = fib->ipv4_dst;
	}
	k->iif = fib->ifindex;
	k->family = fib->family;
	k->flags = (__u8)flags;
	k->tos = fib->tos;
	k->proto = fib->l4_protocol;
}

/* Multiplicative, one multiply per word, then one mix: a collision only
 * costs a FIB lookup (the key is compared in full). */
static __always_inline __u32 route_key_hash(const struct route_cache_key *k)
{
	__u32 h = k->iif ^ ((__u32)k->family << 8) ^ ((__u32)k->tos << 16) ^ ((__u32)k->proto << 24);

	for (int i = 0; i < 8; i++)
		h = (h ^ k->addr[i]) * 0x9e3779b1;
	return hash_mix32(h) & (MAPGW_ROUTE_CACHE_SETS - 1);
}

static __always_inline bool route_key_eq(const struct route_cache_key *a,
					 const struct route_cache_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 diff = 0;

	for (int i = 0; i < (int)(sizeof(*a) / 8); i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/*
 * bpf_fib_lookup() through the cache: the same return codes, and on success
 * fib->ifindex, smac and dmac as the kernel fills them (callers use no other
 * output of a successful lookup). Its own subprogram: the key's stack space
 * must not add to the entry programs' deepest call chains (512 bytes).
 */
static __attribute__((noinline)) int fib_lookup_cached(void *ctx, struct bpf_fib_lookup *fib, __u32 flags)
{
	struct route_cache_entry *e, *victim = 0;
	struct route_cache_key k = {};
	struct route_cache_set *set;
	struct mapgw_route_ctl *ctl;
	__u32 zero = 0, idx, epoch, now, oldest = 0;
	__u16 len = fib->tot_len;
	int rc;

	ctl = bpf_map_lookup_elem(&mapgw_route_ctl, &zero);
	epoch = ctl ? ctl->epoch : 0;
	if (!epoch)
		return fib_lookup(ctx, fib, flags);
	route_key_of(&k, fib, flags);
	idx = route_key_hash(&k);
	set = bpf_map_lookup_elem(&mapgw_route_cache, &idx);
	if (!set)
		return fib_lookup(ctx, fib, flags);
	now = (__u32)bpf_jiffies64();
	for (int i = 0; i < ROUTE_CACHE_WAYS; i++) {
		e = &set->way[i];
		if (e->epoch != epoch || now - e->filled >= kernel_hz) {
			if (!victim || oldest != ~0U) {
				victim = e; /* unusable: the first choice to refill */
				oldest = ~0U;
			}
			continue;
		}
		if (route_key_eq(&e->key, &k)) {
			if (len <= e->max_len) {
				fib->ifindex = e->ifindex;
				__builtin_memcpy(fib->smac, e->smac, 6);
				__builtin_memcpy(fib->dmac, e->dmac, 6);
				return BPF_FIB_LKUP_RET_SUCCESS;
			}
			victim = e; /* same inputs, a bigger packet: ask, then widen */
			oldest = ~0U;
			break;
		}
		if (oldest != ~0U && (!victim || now - e->filled > oldest)) {
			victim = e;
			oldest = now - e->filled;
		}
	}
	rc = fib_lookup(ctx, fib, flags);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib->ifindex > 0xffff || !victim)
		return rc;
	if (victim->epoch == epoch && route_key_eq(&victim->key, &k) &&
	    victim->ifindex == fib->ifindex && len > victim->max_len) {
		victim->max_len = len; /* a bigger packet passed the MTU check */
		return rc;
	}
	victim->key = k;
	victim->filled = now;
	victim->epoch = epoch;
	victim->ifindex = (__u16)fib->ifindex;
	victim->max_len = len;
	__builtin_memcpy(victim->smac, fib->smac, 6);
	__builtin_memcpy(victim->dmac, fib->dmac, 6);
	return rc;
}

#endif /* MAPGW_ROUTE_CACHE_H */
