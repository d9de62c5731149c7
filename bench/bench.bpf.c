// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark helpers (never part of mapgw itself):
 *   bench_gen   live-frames traffic generator for BPF_PROG_RUN: sends the
 *               template frame (at least 64 bytes) with XDP_TX, walking
 *               header fields over the flows.
 *   bench_sink  counts tunnelled (or plain IPv4) frames and drops everything
 *               (the receiver at the end of the topology).
 *   bench_fwd   bare XDP forward: rewrite MACs, redirect through a devmap —
 *               the local ceiling every data plane is compared with.
 *   bench_encap bench_fwd plus a constant IPv4-in-IPv6 header in front: what
 *               any MAP-E encapsulator must do at least (no lookup, no check)
 *   bench_decap bench_fwd minus the outer IPv6 header: the same for
 *               decapsulation — the ceilings of the BR and CE in this work.
 *   bench_natdecap  bench_decap plus the least reverse NAT44 a CE does
 *               (least_path.h: one lookup, address and port rewritten, TTL):
 *               the ceiling of any NAT44 CE's inbound path here.
 *   bench_natencap  bench_encap after the least NAT44 a CE does outbound:
 *               the floor of a CE's outbound path with per-flow state, run
 *               over 1 k and 10 k flows beside mapgw's scale runs.
 *   bench_pass  XDP_PASS, so a veth can receive XDP_TX/redirected frames
 *               while the kernel does the forwarding (the kernel path).
 * The kernel path's encapsulation is in lwt_encap.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bare_tunnel.h"
#include "cost_abi.h"
#include "least_path.h"

/* The frame, rewritten into every packet: live frames are recycled without
 * restoring their bytes, and the DUT's encap/decap has overwritten them. */
__u64 tmpl[16] SEC(".data.tmpl"); /* writable, so not constant-folded */
/* The flows: packet n gets walk_fast's step n % count and walk_slow's step
 * n / fast.count % count (as in cost.bpf.c). */
struct field_walk walk_fast SEC(".data.tmpl");
struct field_walk walk_slow SEC(".data.tmpl");
__u32 ipv4_at SEC(".data.tmpl"); /* the IPv4 header's offset (0: none): its checksum follows the walks */
const volatile __u32 tmpl_len = 64;
const volatile __u8 fwd_dmac[6];
const volatile __u8 fwd_smac[6];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_out SEC(".maps");

static __always_inline __u64 *counter(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bench_count, &zero);
}

/* The template's first min(tmpl_len, 128) bytes back into the frame, in
 * 8-byte words (the last may pass tmpl_len, never the frame's end). */
static __always_inline void restore_template(void *data, void *end)
{
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (i * 8 >= tmpl_len || data + (i + 1) * 8 > end)
			break;
		((__u64 *)data)[i] = tmpl[i];
	}
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 n, fast_count;
	__u64 *count = counter();

	if (!count)
		return XDP_ABORTED;
	if (data + 64 > end)
		return XDP_ABORTED;
	/* 8-byte stores: x86 XDP allows unaligned packet access. */
	restore_template(data, end);
	n = (__u32)*count;
	*count += 1;
	/* Templates carry UDP checksum 0; the IPv4 header's is made right
	 * again after the walks (mapgw and the kernel verify it). */
	fast_count = walk_fast.count ? walk_fast.count : 1;
	if (walk_fast.count)
		walk(data, end, &walk_fast, n % fast_count);
	if (walk_slow.count)
		walk(data, end, &walk_slow, (n / fast_count) % walk_slow.count);
	if (ipv4_at)
		ipv4_refresh_checksum(data, end, ipv4_at);
	return XDP_TX;
}

/* Counts only what the DUT should deliver: IPv4-in-IPv6 (and IPv4 for the
 * bare forward), so stray ICMP errors or neighbour solicitations from a
 * contender do not count as throughput. */
SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	__u64 *n = counter();

	if (!n || (void *)(ip6 + 1) > end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(0x0800) ||
	    (eth->h_proto == bpf_htons(0x86dd) && ip6->nexthdr == 4))
		*n += 1;
	return XDP_DROP;
}

/* The configured MACs into @eth. Byte by byte through the volatile: a
 * memcpy from a cast-away volatile lets clang fold the (zero) initial value
 * in. */
static __always_inline void fwd_macs(struct ethhdr *eth)
{
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = fwd_dmac[i];
		eth->h_source[i] = fwd_smac[i];
	}
}

SEC("xdp")
int bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	fwd_macs(eth);
	return bpf_redirect_map(&bench_out, 0, 0);
}

static __always_inline int encap_out(struct xdp_md *ctx)
{
	__u16 inner = (__u16)(ctx->data_end - ctx->data) - sizeof(struct ethhdr);
	void *data, *end;
	struct ipv6hdr *ip6;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*ip6)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip6 = data + sizeof(struct ethhdr);
	if ((void *)(ip6 + 1) > end)
		return XDP_DROP;
	fwd_macs(data);
	((struct ethhdr *)data)->h_proto = bpf_htons(0x86dd);
	bare_outer_ipv6(ip6, inner);
	return bpf_redirect_map(&bench_out, 0, 0);
}

SEC("xdp")
int bench_encap(struct xdp_md *ctx)
{
	return encap_out(ctx);
}

SEC("xdp")
int bench_natencap(struct xdp_md *ctx)
{
	return least_ce_nat(ctx, false) ? encap_out(ctx) : XDP_DROP;
}

static __always_inline int decap_out(struct xdp_md *ctx)
{
	struct ethhdr *eth = bare_decap(ctx);

	if (!eth)
		return XDP_DROP;
	fwd_macs(eth);
	eth->h_proto = bpf_htons(0x0800);
	return bpf_redirect_map(&bench_out, 0, 0);
}

SEC("xdp")
int bench_decap(struct xdp_md *ctx)
{
	return decap_out(ctx);
}

SEC("xdp")
int bench_natdecap(struct xdp_md *ctx)
{
	return least_ce_nat(ctx, true) ? decap_out(ctx) : XDP_DROP;
}

SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
