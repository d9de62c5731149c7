/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel path's MAP-E encapsulation for the benchmark (`ip route ...
 * encap bpf xmit obj lwt_{ce,br}.bpf.o sec lwt_xmit`): pushes a fixed outer
 * IPv6 header and lets the kernel route it. It does no MAP arithmetic (one
 * fixed tunnel end), so the kernel path is measured doing less than mapgw.
 * Each role's addresses are its own object: iproute2 picks programs by
 * section, and each object has one.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The bench topology's CE address and BR address. */
#define BENCH_CE_ADDR {0x24, 0x0b, 0x00, 0x10, 0xab, 0xcd, 0xef, 0x00, \
		       0x00, 0x6a, 0x48, 0xab, 0xcd, 0x00, 0xef, 0x00}
#define BENCH_BR_ADDR {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}

static __always_inline int lwt_push_ipv6(struct __sk_buff *skb, const struct ipv6hdr *tmpl)
{
	struct ipv6hdr h = *tmpl;

	h.payload_len = bpf_htons(skb->len);
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &h, sizeof(h)))
		return BPF_DROP;
	return BPF_LWT_REROUTE;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
