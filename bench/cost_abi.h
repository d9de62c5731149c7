/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What bench/cost.bpf.c and bench/prog_cost.cc share. */
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

#endif
