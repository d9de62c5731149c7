/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 fragments through a shared address: only the first fragment carries
 * ports, so its PSID is remembered for the rest of the train. A non-first
 * fragment whose first fragment was not seen (lost, or arriving later) has
 * no PSID: it is dropped and counted as drop_frag_unmatched, because
 * guessing would deliver it to the wrong CE. The sender's reassembly timer
 * then discards the train, as with any loss.
 */
#ifndef MAPGW_FRAG_H
#define MAPGW_FRAG_H

#include "maps_common.h"
#include "consts.h"

/* Seconds a first fragment's PSID is remembered (set before load). */
const volatile __u64 frag_timeout_ns = 5ULL * 1000000000ULL;

static __always_inline bool ipv4_is_fragment(const struct iphdr *ip)
{
	return ip->frag_off & bpf_htons(MAPGW_IP_MF | MAPGW_IP_OFFSET);
}

static __always_inline bool ipv4_is_later_fragment(const struct iphdr *ip)
{
	return ip->frag_off & bpf_htons(MAPGW_IP_OFFSET);
}

static __always_inline void frag_key(struct mapgw_frag_key *k, const struct iphdr *ip, __u8 dir)
{
	k->saddr = ip->saddr;
	k->daddr = ip->daddr;
	k->id = ip->id;
	k->proto = ip->protocol;
	k->dir = dir;
}

/* Remember a first fragment's PSID (MAP) and/or inside address (NAT). */
static __always_inline void frag_remember_both(const struct iphdr *ip, __u8 dir, __u16 psid,
					       __u32 addr)
{
	struct mapgw_frag_key k = {};
	struct mapgw_frag_val v = {};

	frag_key(&k, ip, dir);
	v.expires_ns = bpf_ktime_get_ns() + frag_timeout_ns;
	v.psid = psid;
	v.addr = addr;
	bpf_map_update_elem(&mapgw_frags, &k, &v, BPF_ANY);
}

static __always_inline void frag_remember(const struct iphdr *ip, __u8 dir, __u16 psid)
{
	frag_remember_both(ip, dir, psid, 0);
}

/* The train's record when its first fragment was seen in time, else NULL. */
static __always_inline struct mapgw_frag_val *frag_find(const struct iphdr *ip, __u8 dir)
{
	struct mapgw_frag_key k = {};
	struct mapgw_frag_val *v;

	frag_key(&k, ip, dir);
	v = bpf_map_lookup_elem(&mapgw_frags, &k);
	if (!v || v->expires_ns < bpf_ktime_get_ns())
		return NULL;
	return v;
}

/* 0 and *psid when the train's first fragment was seen in time, else -1. */
static __always_inline int frag_lookup(const struct iphdr *ip, __u8 dir, __u16 *psid)
{
	struct mapgw_frag_val *v = frag_find(ip, dir);

	if (!v)
		return -1;
	*psid = v->psid;
	return 0;
}

#endif /* MAPGW_FRAG_H */
