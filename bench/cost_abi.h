/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header-field walks: what the benchmark's BPF programs (cost.bpf.c,
 * bench.bpf.c) and their loaders (prog_cost.cc, benchctl.cc) share. */
#ifndef MAPGW_BENCH_COST_ABI_H
#define MAPGW_BENCH_COST_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define COST_FRAME_WORDS 16 /* every template is exactly 128 bytes */

/* One value written (big-endian) at up to three places, so an address and
 * the copies embedded in other headers stay consistent. */
struct field_walk {
	__u32 offset[3]; /* byte offsets in the frame; 0 = unused */
	__u32 width;	 /* 2 or 4 */
	__u32 base;
	__u32 stride;
	__u32 count;	 /* 0 = this walk is off */
};

#ifdef __VMLINUX_H__
/* Write @v (big-endian, @width 2 or 4) at @offset of the frame; 0 = unused. */
static __always_inline void put_at(void *data, void *end, __u32 offset, __u32 width, __u32 v)
{
	void *p = data + (offset & 0x7f);

	if (!offset)
		return;
	if (width == 4 && p + 4 <= end)
		*(__u32 *)p = bpf_htonl(v);
	else if (width == 2 && p + 2 <= end)
		*(__u16 *)p = bpf_htons((__u16)v);
}

/* The checksum of the 20-byte IPv4 header at @offset, after a walk changed
 * its addresses (the programs verify it, as the kernel does). */
static __always_inline void ipv4_refresh_checksum(void *data, void *end, __u32 offset)
{
	__u16 *h = data + (offset & 0x7f);
	__u32 sum = 0;

	if ((void *)(h + 10) > end)
		return;
	h[5] = 0;
	for (int i = 0; i < 10; i++)
		sum += h[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	h[5] = (__u16)~sum;
}

/* Put step @step of walk @w into the frame. */
static __always_inline void walk(void *data, void *end, const struct field_walk *w, __u32 step)
{
	__u32 v = w->base + w->stride * step;

	put_at(data, end, w->offset[0], w->width, v);
	put_at(data, end, w->offset[1], w->width, v);
	put_at(data, end, w->offset[2], w->width, v);
}
#endif

#endif
