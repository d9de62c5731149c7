/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A program every verifier rejects (a packet read without a bounds check),
 * for the test of how a rejection is reported (kernel_support_test.cc). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int mapgw_test_reject(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;

	return *(__u8 *)(data + 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
