// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel path's MAP-E decapsulation for the TCP benchmark (this kernel
 * has no ip6tnl): at tc ingress, an IPv4-in-IPv6 packet loses its outer
 * header and continues as IPv4 through the kernel's stack (forwarding,
 * conntrack's reverse NAT). No MAP checks: the kernel path does less.
 * GRO aggregates keep their segment size (FIXED_GSO): the inner packets are
 * as long as they were inside the tunnel.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

SEC("tc")
int bench_tc_decap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);

	if ((void *)(ip6 + 1) > end || eth->h_proto != bpf_htons(0x86dd) || ip6->nexthdr != 4)
		return TC_ACT_OK;
	if (bpf_skb_adjust_room(skb, -(int)sizeof(*ip6), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO))
		return TC_ACT_SHOT;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_SHOT;
	eth->h_proto = bpf_htons(0x0800);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
