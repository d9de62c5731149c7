// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-packet cost with BPF_PROG_TEST_RUN and a large repeat count. The kernel
 * does not reset the packet between repetitions, so every run goes through
 * bench_restore first: it puts the frame back to the template (length and
 * bytes), varies up to two header fields to walk over many flows, and tail-
 * calls the program under test (cost_target[0]). Its own cost is measured by
 * tail-calling cost_nop; bench/prog_cost.cc subtracts it.
 *
 *   cost_nop    returns XDP_TX: the floor (restore + tail call + test-run)
 *   cost_encap  bare MAP-E-sized encapsulation, no lookups: the reference
 *               every mapgw program is compared with
 *   cost_encap_fwd  the same, counted and redirected to another port: the
 *               least a forwarding tunnel endpoint does (a second reference)
 *   cost_decap_fwd  its mirror image: an IPv4-in-IPv6 header popped, counted,
 *               redirected; no check (what BR decapsulation costs at least)
 *   least_*     cost_encap_fwd / cost_decap_fwd plus the least lookup and use
 *               of its answer a CE or BR needs (least_path.h): the floor of
 *               each mapgw program with one lookup, no checks
 *
 * Primitives: one operation each, what a full-featured program is built
 * from, so its cost can be accounted for. Each returns XDP_TX only when the
 * operation succeeded (a miss cannot pass as a fast hit):
 *   cost_hash      one hash-map lookup, 16-byte key from the IPv4 destination
 *                  (the size of a NAT session key), over prog_cost's entries
 *   cost_fib       one bpf_fib_lookup() of an IPv6 tunnel destination
 *   cost_route_cache  the same through mapgw's route cache (a hit)
 *   cost_devmap    one lookup in a hash devmap (the egress check)
 *   cost_counter   one per-CPU counter increment (packets and bytes)
 *   cost_clock     one bpf_ktime_get_coarse_ns()
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bare_tunnel.h"
#include "cost_abi.h"
#include "encap.h"
#include "least_path.h"
#include "route_cache.h"

__u64 frame[COST_FRAME_WORDS] SEC(".data.cost");
struct field_walk walk_fast SEC(".data.cost"); /* base + stride * (n % count) */
struct field_walk walk_slow SEC(".data.cost"); /* base + stride * (n / fast.count % count) */
__u64 runs SEC(".data.cost");
__u32 ipv4_at SEC(".data.cost"); /* the IPv4 header's offset (0: none): its checksum follows the walks */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cost_target SEC(".maps");

struct cost_key {
	__u32 addr;
	__u32 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, struct cost_key);
	__type(value, __u64);
} cost_hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} cost_devmap_map SEC(".maps");

struct cost_counter_val {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct cost_counter_val);
} cost_counters SEC(".maps");

/* One packet of @bytes into the per-CPU counters, as mapgw counts. */
static __always_inline bool cost_count(__u64 bytes)
{
	__u32 key = 7;
	struct cost_counter_val *v = bpf_map_lookup_elem(&cost_counters, &key);

	if (!v)
		return false;
	v->packets++;
	v->bytes += bytes;
	return true;
}

/* Filled by prog_cost: the IPv6 destination cost_fib looks up. */
__u8 fib_dst[16] SEC(".data.cost");

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	int delta = (int)(ctx->data_end - ctx->data) - (int)sizeof(frame);
	void *data, *end;
	__u32 fast_count, n;

	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return XDP_ABORTED;
	asm volatile("" : "+r"(ctx)); /* keep clang from offsetting the ctx pointer */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(frame) > end)
		return XDP_ABORTED;
	for (int i = 0; i < COST_FRAME_WORDS; i++)
		((__u64 *)data)[i] = frame[i];
	n = (__u32)runs++;
	fast_count = walk_fast.count ? walk_fast.count : 1;
	if (walk_fast.count)
		walk(data, end, &walk_fast, n % fast_count);
	if (walk_slow.count)
		walk(data, end, &walk_slow, (n / fast_count) % walk_slow.count);
	if (ipv4_at)
		ipv4_refresh_checksum(data, end, ipv4_at);
	bpf_tail_call(ctx, &cost_target, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int cost_nop(struct xdp_md *ctx)
{
	return XDP_TX;
}

/* cost_encap's work: the outer headers pushed in front of the IPv4 packet.
 * Returns the outer IPv6 header, or NULL. */
static __always_inline struct ipv6hdr *bare_encap(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	void *data, *end;
	__u16 len;

	len = (__u16)(ctx->data_end - ctx->data) - sizeof(*eth);
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*ip6)))
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > end)
		return 0;
	bare_outer_ipv6(ip6, len);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6); /* as a forwarder would */
	eth->h_proto = bpf_htons(0x86dd);
	return ip6;
}

SEC("xdp")
int cost_encap(struct xdp_md *ctx)
{
	return bare_encap(ctx) ? XDP_TX : XDP_DROP;
}

/* Filled by prog_cost: the port cost_encap_fwd sends to (in cost_devmap_map). */
__u32 fwd_ifindex SEC(".data.cost");

/*
 * The least a tunnel endpoint between two ports does per packet beyond
 * cost_encap: count it (per-CPU packets and bytes, as mapgw counts) and
 * redirect it through a devmap to the other port. Two helper calls (adjust
 * head, redirect) instead of one: on a CPU where every return goes through
 * a return thunk, calls dominate a program this short.
 */
static __always_inline int count_and_send(struct xdp_md *ctx)
{
	if (!cost_count(ctx->data_end - ctx->data))
		return XDP_DROP;
	return bpf_redirect_map(&cost_devmap_map, fwd_ifindex, XDP_DROP);
}

SEC("xdp")
int cost_encap_fwd(struct xdp_md *ctx)
{
	return bare_encap(ctx) ? count_and_send(ctx) : XDP_DROP;
}

/*
 * cost_encap_fwd's counterpart for decapsulation: an Ethernet + IPv6 frame
 * whose next header is IPv4 loses the IPv6 header, is counted and
 * redirected — no address, length or TTL check, no lookup (bench.bpf.c's
 * bench_decap plus the counter).
 */
static __always_inline int decap_fwd(struct xdp_md *ctx)
{
	struct ethhdr *eth = bare_decap(ctx);

	if (!eth)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, eth->h_source, 6); /* as a forwarder would */
	eth->h_proto = bpf_htons(0x0800);
	return count_and_send(ctx);
}

SEC("xdp")
int cost_decap_fwd(struct xdp_md *ctx)
{
	return decap_fwd(ctx);
}

/* ---- the least lookup-driven endpoints ---- */

/* CE outbound: NAT44 by one lookup, then cost_encap_fwd. */
SEC("xdp")
int least_ce_out(struct xdp_md *ctx)
{
	if (!least_ce_nat(ctx, false) || !bare_encap(ctx))
		return XDP_DROP;
	return count_and_send(ctx);
}

/* CE inbound: reverse NAT44 by one lookup, then cost_decap_fwd. */
SEC("xdp")
int least_ce_in(struct xdp_md *ctx)
{
	return least_ce_nat(ctx, true) ? decap_fwd(ctx) : XDP_DROP;
}

/* BR encapsulation: the CE's address for the destination (address, port)
 * by one lookup, written into cost_encap_fwd's outer header. */
SEC("xdp")
int least_br_encap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct l4_ports *p = least_ports_of(ip, end);
	struct ipv6hdr *ip6;
	bool hit;
	struct least_slot *s = least_br_probe(ip, p, LEAST_BR_ENCAP, &hit);

	if (!s) /* p is set then, and holds the IPv4 header too */
		return XDP_DROP;
	if (!hit) {
		s->ipv6.in6_u.u6_addr32[0] = bpf_htonl(0x240b0010);
		s->ipv6.in6_u.u6_addr32[1] = ip->daddr;
		s->ipv6.in6_u.u6_addr32[2] = 0;
		s->ipv6.in6_u.u6_addr32[3] = p->dest;
	}
	ip6 = bare_encap(ctx);
	if (!ip6)
		return XDP_DROP;
	ip6->daddr = s->ipv6;
	return count_and_send(ctx);
}

/* BR decapsulation: the CE address expected for the inner source (address,
 * port) by one lookup, compared with the outer source, then
 * cost_decap_fwd. */
SEC("xdp")
int least_br_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct iphdr *ip = (void *)(ip6 + 1);
	struct l4_ports *p = least_ports_of(ip, end);
	bool hit;
	struct least_slot *s = least_br_probe(ip, p, LEAST_BR_DECAP, &hit);

	if (!s) /* p is set then, and holds the IPv4 header too */
		return XDP_DROP;
	if (!hit)
		s->ipv6 = ip6->saddr;
	return ipv6_addr_same(&ip6->saddr, s->ipv6.in6_u.u6_addr8) ? decap_fwd(ctx) : XDP_DROP;
}

/* The IPv4 destination of an Ethernet + IPv4 frame, or 0. */
static __always_inline __u32 frame_ipv4_dst(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 *dst = data + 14 + 16;

	if ((void *)(dst + 1) > end)
		return 0;
	return *dst;
}

SEC("xdp")
int cost_hash(struct xdp_md *ctx)
{
	struct cost_key k = {.addr = frame_ipv4_dst(ctx)};

	return bpf_map_lookup_elem(&cost_hash_map, &k) ? XDP_TX : XDP_DROP;
}

static __always_inline void cost_fib_prepare(struct xdp_md *ctx, struct bpf_fib_lookup *fib)
{
	fib->family = 10; /* AF_INET6 */
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = 4;
	fib->tot_len = 128;
	__builtin_memcpy(fib->ipv6_dst, fib_dst, 16);
}

SEC("xdp")
int cost_fib(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};

	cost_fib_prepare(ctx, &fib);
	return bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) == BPF_FIB_LKUP_RET_SUCCESS ? XDP_TX :
										       XDP_DROP;
}

SEC("xdp")
int cost_route_cache(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};

	cost_fib_prepare(ctx, &fib);
	return fib_lookup_cached(ctx, &fib, 0) == BPF_FIB_LKUP_RET_SUCCESS ? XDP_TX : XDP_DROP;
}

SEC("xdp")
int cost_devmap(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;

	return bpf_map_lookup_elem(&cost_devmap_map, &ifindex) ? XDP_TX : XDP_DROP;
}

SEC("xdp")
int cost_counter(struct xdp_md *ctx)
{
	return cost_count(bpf_xdp_get_buff_len(ctx)) ? XDP_TX : XDP_DROP;
}

SEC("xdp")
int cost_clock(struct xdp_md *ctx)
{
	return bpf_ktime_get_coarse_ns() ? XDP_TX : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
