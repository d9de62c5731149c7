/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The least a lookup-driven tunnel endpoint does per packet besides the
 * tunnel header (cost.bpf.c's least_* programs, bench.bpf.c's
 * bench_natdecap): find the flow's answer with one probe of a per-CPU,
 * direct-mapped table (two key words hashed as mapgw's flow cache hashes
 * them), then use it
 * — a CE rewrites the inner address and port and decrements the TTL, with
 * the IPv4 checksum updated incrementally; a BR copies or compares a CE's
 * IPv6 address. No ways, no expiry, no validation beyond what the verifier
 * demands: a floor to set mapgw's programs against, not a design. A miss
 * fills the slot with an answer made from the packet itself, so a walk's
 * flows hit from their second packet on.
 */
#ifndef MAPGW_BENCH_LEAST_PATH_H
#define MAPGW_BENCH_LEAST_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "checksum.h"
#include "consts.h"
#include "flow_hash.h"
#include "map_port.h" /* struct l4_ports */

/* A power of two: 10 k active flows (the scale runs) leave 86 % of them
 * alone in their slot, so the floor at 10 k active mostly hits, as mapgw's
 * flow cache does. 2 MiB per CPU (mapgw's CE cache: 8 MiB since 09ffd08). */
#define LEAST_SLOTS 65536

struct least_slot {
	__u64 k0, k1;
	union {
		struct in6_addr ipv6; /* BR: the CE's tunnel address */
		struct {
			__be32 addr; /* CE: the translated address and port */
			__be16 port;
		} nat;
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEAST_SLOTS);
	__type(key, __u32);
	__type(value, struct least_slot);
} least_slots SEC(".maps");

/* The translations a miss fills in: the CE's public address (outbound) and
 * the LAN host new inbound flows go to. */
#define LEAST_PUBLIC bpf_htonl(0x6a48abcd) /* 106.72.171.205 */
#define LEAST_INSIDE bpf_htonl(0xc0a8010a) /* 192.168.1.10 */

/* Which program a key belongs to: the programs of one object share the
 * table, and a BR's encapsulation and decapsulation keys can be equal. */
enum least_use { LEAST_CE_OUT = 1, LEAST_CE_IN, LEAST_BR_ENCAP, LEAST_BR_DECAP };

/*
 * The slot for key (@k0, @k1) of @use: *@hit tells whether it held that
 * key; a miss claims it (the caller fills the answer). NULL only if the map
 * lookup fails.
 */
static __always_inline struct least_slot *least_probe(__u64 k0, __u64 k1, enum least_use use,
						      bool *hit)
{
	struct least_slot *s;
	__u32 i;

	k1 |= (__u64)use << 48;
	/* The flow caches' hash: a key's ports are in k1's low half, which the
	 * first version's single multiply-and-add dropped (its 10 k flows, 100
	 * ports to each of 100 hosts, shared 100 slots). */
	i = flow_hash((struct flow_words){k0, k1, 0}) & (LEAST_SLOTS - 1);
	s = bpf_map_lookup_elem(&least_slots, &i);
	if (!s)
		return 0;
	*hit = s->k0 == k0 && s->k1 == k1;
	if (!*hit) {
		s->k0 = k0;
		s->k1 = k1;
	}
	return s;
}

/* The L4 ports after the option-less IPv4 header at @ip, or NULL when @end
 * cuts them (or the header) off. */
static __always_inline struct l4_ports *least_ports_of(struct iphdr *ip, void *end)
{
	struct l4_ports *p = (void *)(ip + 1);

	return (void *)(p + 1) <= end ? p : 0;
}

/* A BR's probe: the slot for the IPv4 packet at @ip (ports @p, or NULL
 * when the frame cuts them off) by one endpoint — the destination address
 * and port when encapsulating, the source when decapsulating. NULL: no
 * ports, or no slot. */
static __always_inline struct least_slot *least_br_probe(const struct iphdr *ip,
							 const struct l4_ports *p, enum least_use use,
							 bool *hit)
{
	bool encap = use == LEAST_BR_ENCAP;

	if (!p)
		return 0;
	return least_probe(encap ? ip->daddr : ip->saddr,
			   (__u64)ip->protocol << 32 | (encap ? p->dest : p->source), use, hit);
}

/* A 5-tuple as two words. */
static __always_inline __u64 least_addrs(const struct iphdr *ip)
{
	return (__u64)ip->daddr << 32 | ip->saddr;
}

static __always_inline __u64 least_ports_proto(const struct iphdr *ip, const struct l4_ports *p)
{
	return (__u64)ip->protocol << 32 | (__u32)p->dest << 16 | p->source;
}

/*
 * A NAT44 step on the inner packet: the destination (@inbound) or source
 * address and port replaced by the flow's translation, TTL decremented,
 * IPv4 checksum (and a UDP checksum in use; the bench sends no TCP) fixed
 * up incrementally. A new
 * flow is translated to @addr, its port kept. False: no room for the ports,
 * or no slot.
 */
static __always_inline bool least_nat(struct iphdr *ip, void *end, bool inbound, __be32 addr)
{
	struct l4_ports *p = least_ports_of(ip, end);
	struct least_slot *s;
	struct udphdr *udp;
	__be32 *a;
	__be16 *port;
	bool hit;

	if (!p)
		return false;
	s = least_probe(least_addrs(ip), least_ports_proto(ip, p), inbound ? LEAST_CE_IN : LEAST_CE_OUT,
			&hit);
	if (!s)
		return false;
	a = inbound ? &ip->daddr : &ip->saddr;
	port = inbound ? &p->dest : &p->source;
	if (!hit) {
		s->nat.addr = addr;
		s->nat.port = *port;
	}
	udp = (void *)p;
	if (ip->protocol == MAPGW_IPPROTO_UDP && (void *)(udp + 1) <= end && udp->check) {
		csum_replace4(&udp->check, *a, s->nat.addr);
		csum_replace2(&udp->check, *port, s->nat.port);
	}
	csum_replace4(&ip->check, *a, s->nat.addr);
	*a = s->nat.addr;
	*port = s->nat.port;
	ipv4_decrease_ttl(ip);
	return true;
}

/* least_nat() on the IPv4 packet of a CE's frame: outbound after the
 * Ethernet header, new flows translated to LEAST_PUBLIC; inbound after the
 * Ethernet and outer IPv6 headers, new flows sent to LEAST_INSIDE. */
static __always_inline bool least_ce_nat(struct xdp_md *ctx, bool inbound)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr) + (inbound ? sizeof(struct ipv6hdr) : 0);

	return (void *)(ip + 1) <= end &&
	       least_nat(ip, end, inbound, inbound ? LEAST_INSIDE : LEAST_PUBLIC);
}

#endif /* MAPGW_BENCH_LEAST_PATH_H */
