/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Receive spreading on the inner flow (config `spread_cpus`). Every tunnel
 * packet from one CE carries the same outer addresses, so a NIC's RSS, which
 * hashes those, puts all of that CE's flows on one queue and one CPU. The
 * role's XDP entry program hashes the inner IPv4 flow instead and hands the
 * frame to the CPU it picks through a cpumap, whose entries run the same
 * processing there (the role's "xdp/cpumap" program). A flow always lands on
 * the same CPU: its packets stay in order and its per-CPU flow-cache copy
 * stays warm. Fragments are spread on addresses and protocol only, so every
 * fragment of a datagram meets its first one (frag.h) on one CPU.
 *
 * Off unless the loader sets the CPUs and attaches the role's spreading
 * entry program; the plain entry program has no trace of it. Names, within
 * the kernel's 15 characters so bpftool shows them whole: <role>_<side>fan
 * fans packets out, <role>_<side>cpu is the cpumap program, <role>_qdrops
 * counts the queues' drops.
 */
#ifndef MAPGW_SPREAD_H
#define MAPGW_SPREAD_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "counters.h"
#include "mapgw_abi.h"
#include "flow_cache.h"
#include "frag.h"
#include "parsing.h"

/* The CPUs flows are spread over (at least one: the spreading programs load
 * only then). Set by the loader. */
const volatile __u32 spread_cpu_count = 0;
const volatile __u32 spread_cpus[MAPGW_MAX_SPREAD_CPUS];

/* mapgw_spread's id, which the tracepoint reports: set by the loader after
 * load (the map has no id before). */
__u32 spread_map_id;

/* Keyed by CPU number; the loader sizes it to the possible CPUs and gives
 * each spread CPU an entry running the role's cpumap program. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} mapgw_spread SEC(".maps");

/*
 * The spread CPU of an Ethernet + IPv6 + IPv4 frame's inner flow, or -1 for
 * any other frame (processed where it arrived). TCP/UDP with both ports in
 * the frame: addresses, protocol and ports; anything else (fragments, ICMP,
 * IPv4 options): addresses and protocol. The CPU comes from the hash's top
 * bits (multiply-shift), the flow cache's set from its low bits, so the
 * flows one CPU gets still use all of its sets.
 */
static __always_inline int spread_cpu_of(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct hdr_cursor c = {.pos = data, .end = end};
	struct l4_ports *ports;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u16 sport = 0, dport = 0;
	__u32 idx;

	if (parse_ethhdr(&c, &eth) != MAPGW_ETH_P_IPV6 ||
	    parse_ipv6hdr(&c, &ip6) != MAPGW_IPPROTO_IPIP)
		return -1;
	ip = c.pos;
	if ((void *)(ip + 1) > end)
		return -1;
	ports = (void *)(ip + 1);
	if (*(__u8 *)ip == 0x45 && !ipv4_is_fragment(ip) && (void *)(ports + 1) <= end &&
	    (ip->protocol == MAPGW_IPPROTO_TCP || ip->protocol == MAPGW_IPPROTO_UDP)) {
		sport = ports->source;
		dport = ports->dest;
	}
	idx = ((__u64)flow_hash(flow_words_make(ip->saddr, ip->daddr, sport, dport, 0, ip->protocol,
						0, 0)) *
	       spread_cpu_count) >> 32;
	if (idx >= MAPGW_MAX_SPREAD_CPUS)
		return -1;
	return spread_cpus[idx];
}

/* XDP_REDIRECT when the frame went to another CPU (counted as
 * spread_handoff), or -1: process it here (its flow's CPU is this one, it
 * is no tunnel packet, or that CPU has no cpumap entry). */
static __always_inline int spread_to_flow_cpu(struct xdp_md *ctx)
{
	int cpu = spread_cpu_of(ctx);

	if (cpu < 0 || (__u32)cpu == bpf_get_smp_processor_id())
		return -1;
	if (bpf_redirect_map(&mapgw_spread, cpu, XDP_PASS) != XDP_REDIRECT)
		return -1;
	count(MAPGW_CNT_SPREAD_HANDOFF, ctx->data_end - ctx->data);
	return XDP_REDIRECT;
}

/* Frames the kernel dropped because a spread CPU's queue was full: counted
 * from the cpumap's enqueue tracepoint, for this instance's map only. */
static __always_inline void spread_count_queue_drops(int map_id, __u32 drops)
{
	if (drops && spread_map_id && (__u32)map_id == spread_map_id)
		count_many(MAPGW_CNT_DROP_SPREAD_QUEUE_FULL, drops, 0);
}

/*
 * A role's spreading programs for one entry point whose work is @work(ctx):
 * @fan, the XDP entry program spreading puts in the plain one's place; @cpu,
 * the cpumap program doing @work on the picked CPU; @qdrops, the queues'
 * drop counter (spread_count_queue_drops).
 */
#define MAPGW_SPREADING_PROGRAMS(fan, cpu, qdrops, work)                                        \
	SEC("xdp")                                                                                \
	int fan(struct xdp_md *ctx)                                                               \
	{                                                                                         \
		int rc = spread_to_flow_cpu(ctx);                                                 \
		return rc >= 0 ? rc : work(ctx);                                                  \
	}                                                                                         \
	SEC("xdp/cpumap")                                                                         \
	int cpu(struct xdp_md *ctx)                                                               \
	{                                                                                         \
		return work(ctx);                                                                 \
	}                                                                                         \
	SEC("tp_btf/xdp_cpumap_enqueue")                                                          \
	int BPF_PROG(qdrops, int map_id, unsigned int processed, unsigned int drops, int to_cpu) \
	{                                                                                         \
		spread_count_queue_drops(map_id, drops);                                          \
		return 0;                                                                         \
	}

#endif /* MAPGW_SPREAD_H */
