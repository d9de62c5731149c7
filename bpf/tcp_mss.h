/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP MSS clamping on SYN (both directions): encapsulation adds 40 bytes,
 * so segments must fit the tunnel MTU - 40 (IPv4 + TCP headers). Without it,
 * hosts behind the CE depend on PMTU discovery, which firewalls often break.
 */
#ifndef MAPGW_TCP_MSS_H
#define MAPGW_TCP_MSS_H

#include "checksum.h"
#include "parsing.h"

#define TCP_MAX_OPTIONS_SCANNED 10

/* Returns 1 when the MSS was lowered. */
static __always_inline int tcp_clamp_mss(struct tcphdr *tcp, void *end, __u16 max_mss)
{
	void *opt = (void *)(tcp + 1);
	void *opt_end;
	int i;

	if ((void *)(tcp + 1) > end || !tcp->syn)
		return 0;
	opt_end = (void *)tcp + tcp->doff * 4;
	if (opt_end > end)
		return 0;
	for (i = 0; i < TCP_MAX_OPTIONS_SCANNED; i++) {
		__u8 *p = opt;
		__u16 old, new_mss, off;
		__u8 len;

		if ((void *)(p + 2) > opt_end || (void *)(p + 2) > end)
			return 0;
		if (p[0] == 0) /* end of options */
			return 0;
		if (p[0] == 1) { /* no-op */
			opt = p + 1;
			continue;
		}
		len = p[1];
		if (len < 2)
			return 0;
		if (p[0] == 2 && len == 4) {
			if ((void *)(p + 4) > end)
				return 0;
			old = (__u16)(p[2] << 8 | p[3]);
			if (old <= max_mss)
				return 0;
			new_mss = max_mss;
			p[2] = new_mss >> 8;
			p[3] = new_mss & 0xff;
			off = (void *)(p + 2) - (void *)tcp;
			/* At an odd offset the value straddles two checksum words: the
			 * one's-complement sum sees it byte-swapped. */
			if (off & 1)
				csum_replace2(&tcp->check, bpf_htons(__builtin_bswap16(old)),
					      bpf_htons(__builtin_bswap16(new_mss)));
			else
				csum_replace2(&tcp->check, bpf_htons(old), bpf_htons(new_mss));
			return 1;
		}
		opt = p + len;
	}
	return 0;
}

#endif /* MAPGW_TCP_MSS_H */
