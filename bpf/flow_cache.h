/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The CE's per-CPU flow cache: for an established TCP/UDP flow through the
 * BR, everything a packet needs in one lookup — its translation (external
 * port out, inside endpoint in), the next hop's device and MACs, the flow
 * label — instead of a route decision, a session lookup and a tunnel route
 * (bench/prog_cost: three lookups of 22-38 ns each at 1 k sessions, and a
 * session lookup in a 1 M-entry table costs 8x one in a 1 k table).
 *
 * The NAT tables stay the truth; an entry is a copy that is used only while
 *   - the route cache's epoch is the one it was filled in: the agent moves
 *     it on netlink news and whenever it changes NAT state or config other
 *     than by idle expiry (set_config, FMRs, static NAPT, filter, egress
 *     ports, NAT flushes), and
 *   - it is younger than a second, as the route cache's answers (whose
 *     next hop it copies): a flow then goes through the tables every
 *     second, which keeps its session alive (the shortest idle timeout a
 *     cached flow can have is UDP's 120 s) and bounds how long a copy can
 *     outlive a session expired in a race with its last packet. (Half a
 *     second cost 10 k active flows 20 k full paths a second, 1.3 % of the
 *     packets of a 1.5 Mpps lab run.) And
 *   - the packet is no longer than one already forwarded this way (MTU).
 * TCP segments with SYN, FIN or RST, fragments, ICMP, hairpinning and FMR
 * traffic always take the full path (state, MSS clamping, fragment
 * tracking). Off with the route cache (`route_cache = false`).
 *
 * The BR keeps copies too: its encapsulation (rule, PSID, CE address and
 * next hop for a destination address and port) and its decapsulation (the
 * CE address and BR address that passed the §8.1 check for an inner source
 * address and port, and the IPv4 next hop); nothing there is stateful, so
 * only the epoch and lifetime apply. The maps are the roles' own
 * (ce.bpf.c, br_maps.h); this header has the types and the set logic.
 */
#ifndef MAPGW_FLOW_CACHE_H
#define MAPGW_FLOW_CACHE_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "counters.h"
#include "encap.h"
#include "flow_hash.h"
#include "frag.h"
#include "map_port.h"
#include "route_cache.h"
#include "xdp_common.h"

/* Sets per CPU - 1 (a power of two minus one): the loader sizes the map and
 * sets this (config `flow_cache_sets`, default MAPGW_FLOW_CACHE_SETS). 10 k
 * active flows over 4096 sets of 4 left a fifth of them in overfull sets,
 * missing every time (bench scale runs: 1.40 vs 2.13 Mpps for 1 k flows);
 * over 8192 sets, about 4 %, and a third of the rest sat in a later way
 * (a second cache line to read). Over 32768, 86 % sit alone in their set. */
const volatile __u32 flow_cache_mask = MAPGW_FLOW_CACHE_SETS - 1;
#define FLOW_CACHE_LIFE_S 1 /* entries live a second */
/* A live copy is replaced only once it is this old (an eighth of a second).
 * Replacing the oldest at once made every flow of an overfull set miss on
 * every packet when they take turns, as a walk over many flows does: five
 * flows in four ways, each evicting the one that comes next (prog_cost, 10 k
 * flows over 8192 sets: 5 % of packets took the full path). Now the flows
 * beyond the ways miss, the others hit, and the places rotate at most eight
 * times a second. */
#define FLOW_CACHE_MIN_AGE_DIV 8

enum flow_dir { FLOW_OUT = 1, FLOW_IN = 2, FLOW_BR_ENCAP = 3, FLOW_BR_DECAP = 4 };

/* What a role's fast path returns when it does not send the packet itself:
 * its full path follows, and fills the cache only after a miss (the key and
 * epoch then wait in the role's scratch map; a hit never touches it). */
enum {
	FLOW_FAST_UNCACHED = -1, /* not for the cache */
	FLOW_FAST_MISSED = -2,	 /* keyed, not known: the key waits for the fill */
};

/* CE outbound: inside -> remote. CE inbound: remote -> our external port.
 * BR encapsulation: the inner 5-tuple (tos 0: the IPv6 route does not
 * depend on it); its hash is also the packet's flow label.
 * BR decapsulation: the inner source (address, port) and destination
 * address decide (dport 0); the outer addresses are checked on a hit. */
struct flow_key {
	__u32 src;
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 tos;
	__u8 dir;
	__u8 pad1;
	__u32 iif;
	__u32 pad2;
};

/* What every entry starts with: the key, its validity, the next hop. */
struct flow_head {
	struct flow_key key;
	__u32 epoch;
	__u32 filled;	/* jiffies (low 32 bits) */
	__u16 ifindex;
	__u16 max_len;	/* the longest IPv4 packet forwarded this way */
	__u8 dmac[6];	/* in Ethernet header order: copied as 12 bytes */
	__u8 smac[6];
};

/* The CE's entry: one cache line. */
struct flow_entry {
	struct flow_head h;
	__u32 label;	/* outbound: the outer flow label */
	__u32 addr;	/* inbound: the inside address */
	__u16 port;	/* outbound: external port; inbound: inside port */
	__u8 pad[6];
};

/* The BR's entry: the tunnel's two addresses as on the wire, written or
 * compared as four words (decapsulation: the ones the RFC 7597 §8.1 check
 * passed; a packet must arrive with exactly these). */
struct br_flow_entry {
	struct flow_head h;
	struct in6_addr src;
	struct in6_addr dst;
};
_Static_assert(__builtin_offsetof(struct br_flow_entry, dst) ==
		   __builtin_offsetof(struct br_flow_entry, src) + sizeof(struct in6_addr),
	       "a BR copy's tunnel addresses are a pair (ipv6_addr_pair_*)");

/*
 * A key as three 64-bit words (struct flow_words, flow_hash.h), the layout
 * of struct flow_key: built in
 * registers, hashed and compared as words, and stored in three stores when
 * the full path needs it. (Built field by field in memory, the probe's
 * 64-bit loads right after would each span several fresh narrower stores,
 * which the CPU cannot forward.)
 */
static __always_inline struct flow_words flow_words_make(__u32 src, __u32 dst, __u16 sport,
							 __u16 dport, __u32 iif, __u8 proto,
							 __u8 tos, __u8 dir)
{
	return (struct flow_words){
	    .w0 = (__u64)dst << 32 | src,
	    .w1 = ((__u64)dir << 16 | (__u64)tos << 8 | proto) << 32 | (__u32)dport << 16 | sport,
	    .w2 = iif,
	};
}

static __always_inline void flow_key_put(struct flow_key *k, struct flow_words w)
{
	__u64 *p = (__u64 *)k;

	p[0] = w.w0;
	p[1] = w.w1;
	p[2] = w.w2;
}

static __always_inline struct flow_words flow_words_of(const struct flow_key *k)
{
	const __u64 *p = (const __u64 *)k;

	return (struct flow_words){p[0], p[1], p[2]};
}

/* What any copy needs: TCP or UDP, not a fragment, both ports in the frame. */
static __always_inline bool flow_l4_cacheable(const struct iphdr *ip, const void *l4,
					      const void *end)
{
	return !ipv4_is_fragment(ip) && l4 + sizeof(struct l4_ports) <= end &&
	       (ip->protocol == MAPGW_IPPROTO_TCP || ip->protocol == MAPGW_IPPROTO_UDP);
}

/*
 * The key of a TCP/UDP packet that may use the CE's cache, in @w: not a
 * fragment, no SYN/FIN/RST. Returns false for everything else. @l4 follows
 * the IPv4 header.
 */
static __always_inline bool flow_key_of(struct flow_words *w, struct iphdr *ip, void *l4, void *end,
					__u32 iif, __u8 dir)
{
	struct l4_ports *p = l4;

	if (!flow_l4_cacheable(ip, l4, end))
		return false;
	if (ip->protocol == MAPGW_IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end || tcp->syn || tcp->fin || tcp->rst)
			return false;
	}
	*w = flow_words_make(ip->saddr, ip->daddr, p->source, p->dest, iif, ip->protocol, ip->tos,
			     dir);
	return true;
}

/* A flow hash as a flow label: 20 bits, never zero (RFC 6437: zero means
 * "no label"). */
static __always_inline __u32 flow_label_of_hash(__u32 h)
{
	h &= 0xfffff;
	return h ? h : 1;
}

/*
 * The outer flow label of an inner flow: the hash of its BR encapsulation
 * key, so the BR's fast path takes the label from the hash that picked its
 * cache set. @ports is flow_ports()'s word (destination port in the upper
 * half, source port or ICMP id in the lower, as in a key).
 */
static __always_inline __u32 flow_label(__be32 saddr, __be32 daddr, __u8 proto, __u32 ports)
{
	return flow_label_of_hash(flow_hash(flow_words_make(saddr, daddr, (__u16)ports,
							    (__u16)(ports >> 16), 0, proto, 0,
							    FLOW_BR_ENCAP)));
}

static __always_inline bool flow_key_eq(const struct flow_key *a, struct flow_words k)
{
	const __u64 *x = (const __u64 *)a;

	return ((x[0] ^ k.w0) | (x[1] ^ k.w1) | (x[2] ^ k.w2)) == 0;
}

/* The Ethernet header from a copy: both MACs in one 12-byte copy. */
static __always_inline void flow_eth_set(struct ethhdr *eth, const struct flow_head *h, __u16 proto)
{
	*(__u64 *)eth = *(const __u64 *)h->dmac;
	*(__u32 *)((__u8 *)eth + 8) = *(const __u32 *)(h->dmac + 8);
	eth->h_proto = bpf_htons(proto);
}

/*
 * The fast paths' tails (xdp_common.h's pieces, the Ethernet header from the
 * copy @h). Encapsulation returns the outer IPv6 header for the caller to
 * fill before xdp_send, or NULL (a counted drop); decapsulation sends.
 */
static __always_inline struct ipv6hdr *flow_encap_push(struct xdp_md *ctx, __u32 l3_off,
						       const struct flow_head *h)
{
	struct ethhdr *eth = xdp_encap_push(ctx, l3_off);

	if (!eth)
		return 0;
	flow_eth_set(eth, h, MAPGW_ETH_P_IPV6);
	return (void *)(eth + 1);
}

static __always_inline int flow_decap_send(struct xdp_md *ctx, __u32 l3_off,
					   const struct flow_head *h, enum mapgw_counter what)
{
	struct ethhdr *eth = xdp_decap_pull(ctx, l3_off + MAPGW_IPV6_HLEN);

	if (!eth)
		return XDP_DROP;
	flow_eth_set(eth, h, MAPGW_ETH_P_IP);
	return xdp_send(ctx, h->ifindex, what);
}

/* The cache's epoch, 0 when off. */
static __always_inline __u32 flow_cache_epoch(void)
{
	__u32 zero = 0;
	struct mapgw_route_ctl *ctl = bpf_map_lookup_elem(&mapgw_route_ctl, &zero);

	return ctl ? ctl->epoch : 0;
}

static __always_inline bool flow_head_live(const struct flow_head *h, __u32 epoch, __u32 now)
{
	return h->epoch == epoch && now - h->filled < kernel_hz * FLOW_CACHE_LIFE_S;
}

/*
 * The cache's layout: a plain array of a role's entries, a part per possible
 * CPU (the loader sizes it), each part way-major: all sets' way 0, then all
 * sets' way 1, and so on. Most flows sit in way 0 (10 k active flows over
 * 32768 sets: 86 % alone in their set), so most packets read the way-0
 * region, a quarter of the part: 2 MiB (512 pages) on a CE instead of all
 * 8 MiB. The values are page-aligned (BPF_F_MMAPABLE), so a CE entry is one
 * cache line. (A per-CPU array of sets aligns its values to 8 bytes only:
 * most sets began 32 or 48 bytes into a line and every hit read two; its
 * lookup loads the value's address from a table of its own first; and 10 k
 * flows' entries were spread over all 8 MiB. Interleaved against it in one
 * lab, 10 rounds: 1.14x the packets with 10 k active flows, 1.03x with 1 k;
 * the step from 1 k to 10 k flows 84 -> 43 ns a packet, the least NAT44 +
 * encapsulation's 38.)
 */
static __always_inline __u32 flow_set_index(__u32 hash)
{
	return bpf_get_smp_processor_id() * MAPGW_FLOW_CACHE_WAYS * (flow_cache_mask + 1) +
	       (hash & flow_cache_mask);
}

/* Way @way of the set whose way 0 is entry @set of @map. */
static __always_inline struct flow_head *flow_way(void *map, __u32 set, int way)
{
	__u32 idx = set + way * (flow_cache_mask + 1);

	return bpf_map_lookup_elem(map, &idx);
}

/* In @set (flow_set_index): the entry for @k usable for a @len-byte packet,
 * or NULL. */
static __always_inline void *flow_find_in(void *map, __u32 set, struct flow_words k, __u32 epoch,
					  __u16 len)
{
	for (int i = 0; i < MAPGW_FLOW_CACHE_WAYS; i++) {
		struct flow_head *h = flow_way(map, set, i);

		if (!h)
			return 0;
		if (!flow_key_eq(&h->key, k))
			continue;
		/* The first copy of a key is its newest (flow_slot_in). */
		if (!flow_head_live(h, epoch, (__u32)bpf_jiffies64()) || len > h->max_len)
			return 0;
		return h;
	}
	return 0;
}

/* Where the answer for @k goes in @set: the first way that is dead or holds
 * @k's own copy, else the oldest live copy old enough to give up its place
 * (FLOW_CACHE_MIN_AGE_DIV); NULL when every way holds a younger live copy.
 * The first, not the own: a flow whose copy was pushed to a later way while
 * the earlier ones were full moves back forward once they die (each later
 * way is a line in another quarter of the part). The fill then lands before
 * any older copy of the same key, so the first match stays the newest. */
static __always_inline struct flow_head *flow_slot_in(void *map, __u32 set,
						      const struct flow_key *k, __u32 epoch)
{
	struct flow_head *victim = 0;
	__u32 now = (__u32)bpf_jiffies64(), oldest = kernel_hz / FLOW_CACHE_MIN_AGE_DIV - 1;

	for (int i = 0; i < MAPGW_FLOW_CACHE_WAYS; i++) {
		struct flow_head *h = flow_way(map, set, i);

		if (!h)
			return 0;
		if (flow_key_eq(&h->key, flow_words_of(k)) || !flow_head_live(h, epoch, now))
			return h;
		if (now - h->filled > oldest) {
			victim = h;
			oldest = now - h->filled;
		}
	}
	return victim;
}

/*
 * Take @set's slot for @k in the role's cache @map and fill its head with
 * the next hop; the caller fills the role's part. @epoch is the one read
 * before the tables were: a change since then leaves the copy unused.
 * Counted: fills are the misses of cacheable packets.
 */
static __always_inline void *flow_claim(void *map, __u32 set, const struct flow_key *k,
					__u32 epoch, __u16 len, const struct bpf_fib_lookup *fib)
{
	struct flow_head *h;

	if (!epoch || fib->ifindex > 0xffff)
		return 0;
	h = flow_slot_in(map, set, k, epoch);
	if (!h) {
		count(MAPGW_CNT_FLOW_CACHE_FULL, 0);
		return 0;
	}
	h->key = *k;
	h->epoch = epoch;
	h->filled = (__u32)bpf_jiffies64();
	h->ifindex = (__u16)fib->ifindex;
	h->max_len = len;
	__builtin_memcpy(h->smac, fib->smac, 6);
	__builtin_memcpy(h->dmac, fib->dmac, 6);
	count(MAPGW_CNT_FLOW_CACHE_FILL, 0);
	return h;
}

/* The role's cache @map: the copy for @w (whose flow_hash is @hash) usable
 * for a @len-byte packet in @epoch (0: the cache is off), or NULL. */
static __always_inline void *flow_cache_find(void *map, struct flow_words w, __u32 hash,
					     __u32 epoch, __u16 len)
{
	if (!epoch)
		return 0;
	return flow_find_in(map, flow_set_index(hash), w, epoch, len);
}

/* What a miss leaves in the role's scratch map for the full path's fill:
 * the key, and the epoch read before the tables were. */
struct flow_miss {
	struct flow_key key;
	__u32 epoch;
};

/* A fast path's miss: @m (the role's scratch slot, NULL if it has none)
 * keeps the key and the epoch. A hit never touches the scratch map. */
static __always_inline int flow_fast_missed(struct flow_miss *m, struct flow_words w, __u32 epoch)
{
	if (!m)
		return FLOW_FAST_UNCACHED;
	flow_key_put(&m->key, w);
	m->epoch = epoch;
	return FLOW_FAST_MISSED;
}

/* The slot for the key @m left in @map, its head filled (flow_claim), or
 * NULL. */
static __always_inline void *flow_cache_claim(void *map, const struct flow_miss *m, __u16 len,
					      const struct bpf_fib_lookup *fib)
{
	return flow_claim(map, flow_set_index(flow_hash(flow_words_of(&m->key))), &m->key, m->epoch,
			  len, fib);
}

#endif /* MAPGW_FLOW_CACHE_H */
