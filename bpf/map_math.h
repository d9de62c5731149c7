/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * MAP-E integer core (RFC 7597 §5, §6, §8.1 and Appendix B), compiled both
 * into BPF programs and into the C++ agent so the data plane and the control
 * plane can never disagree on a mapping.
 *
 * Vocabulary (RFC 7597): n = Rule IPv6 prefix length, r = Rule IPv4 prefix
 * length, o = EA-bits length, p = 32 - r (IPv4 suffix length), a = PSID
 * offset, k = PSID length, m = 16 - a - k (contiguous ports).
 *
 * A port is  A (a bits) | PSID (k bits) | M (m bits).  When a > 0 the ports
 * with A = 0 are excluded. The ports of one PSID form a dense index
 * 0..N-1 (N = (2^a - 1) * 2^m, or 2^m when a = 0), which is how NAT tables
 * address the tiny port sets (240 ports for v6plus, 1008 for OCN).
 *
 * IPv6 addresses are handled as two host-order 64-bit halves; callers
 * convert from network order at the edge. Everything here is branch-light
 * integer code without loops so the verifier accepts it anywhere.
 */
#ifndef MAPGW_MAP_MATH_H
#define MAPGW_MAP_MATH_H

#include "mapgw_types.h"

struct mapgw_u128 {
	__u64 hi; /* bits 0..63 (first 8 bytes of the address) */
	__u64 lo; /* bits 64..127 */
};

/* Rule flags. Values are ABI: they live in BPF maps. */
#define MAPGW_RULE_F_FMR (1u << 0)		/* also a Forwarding Mapping Rule */
#define MAPGW_RULE_F_LEGACY_IID (1u << 1)	/* draft-ietf-softwire-map-03 IID */
#define MAPGW_RULE_F_PSID_PROVISIONED (1u << 2) /* PSID not in EA bits */

/*
 * One validated mapping rule in the form the data plane uses. psid_len is
 * the effective k: o - p when the EA bits carry the PSID, else provisioned.
 */
struct mapgw_rule {
	struct mapgw_u128 ipv6_prefix; /* bits beyond ipv6_len are zero */
	__u32 ipv4_prefix;	       /* host order, bits beyond ipv4_len zero */
	__u8 ipv6_len;		       /* n */
	__u8 ipv4_len;		       /* r */
	__u8 ea_len;		       /* o */
	__u8 psid_offset;	       /* a */
	__u8 psid_len;		       /* k */
	__u8 flags;		       /* MAPGW_RULE_F_* */
	__u16 psid;		       /* provisioned PSID (F_PSID_PROVISIONED) */
};

/* Interface-identifier layouts of the CE address. */
enum mapgw_iid_layout {
	MAPGW_IID_RFC7597 = 0, /* 16 zero | IPv4 32 | PSID 16 */
	MAPGW_IID_LEGACY = 1,  /* 8 zero | IPv4 32 | PSID 16 | 8 zero */
};

/* Why a mapping was refused. Values are ABI (used as counter offsets). */
enum mapgw_map_status {
	MAPGW_MAP_OK = 0,
	MAPGW_MAP_EXCLUDED_PORT = 1,	/* A = 0: port below 2^(16-a) */
	MAPGW_MAP_WRONG_PSID = 2,	/* port's PSID differs */
	MAPGW_MAP_ADDR_OUTSIDE_RULE = 3, /* IPv4 not what the EA bits say */
	MAPGW_MAP_NOT_CE_ADDRESS = 4,	/* IPv6 is not the derived CE address */
};

/* ---- 64/128-bit helpers ------------------------------------------------- */

MAPGW_INLINE __u64 mapgw_mask64(__u32 len)
{
	return len >= 64 ? ~0ULL : ((1ULL << len) - 1);
}

/* Mask with the top @len bits of a 64-bit word set. */
MAPGW_INLINE __u64 mapgw_top_mask64(__u32 len)
{
	return len == 0 ? 0 : (len >= 64 ? ~0ULL : ~((1ULL << (64 - len)) - 1));
}

MAPGW_INLINE __u32 mapgw_top_mask32(__u32 len)
{
	return len == 0 ? 0 : (len >= 32 ? ~0U : ~((1U << (32 - len)) - 1));
}

MAPGW_INLINE bool mapgw_u128_eq(const struct mapgw_u128 *x, const struct mapgw_u128 *y)
{
	return x->hi == y->hi && x->lo == y->lo;
}

/* Bits [start, start+len) counted from the most significant bit; len <= 64. */
MAPGW_INLINE __u64 mapgw_u128_get_bits(const struct mapgw_u128 *a, __u32 start, __u32 len)
{
	__u32 end = start + len;
	__u32 lo_bits;

	if (len == 0 || end > 128)
		return 0;
	if (end <= 64)
		return (a->hi >> (64 - end)) & mapgw_mask64(len);
	if (start >= 64)
		return (a->lo >> (128 - end)) & mapgw_mask64(len);
	lo_bits = end - 64; /* 1..63 */
	return ((a->hi & mapgw_mask64(len - lo_bits)) << lo_bits) | (a->lo >> (64 - lo_bits));
}

MAPGW_INLINE void mapgw_u128_set_bits(struct mapgw_u128 *a, __u32 start, __u32 len, __u64 v)
{
	__u32 end = start + len;
	__u32 lo_bits, shift;

	if (len == 0 || end > 128)
		return;
	v &= mapgw_mask64(len);
	if (end <= 64) {
		shift = 64 - end;
		a->hi = (a->hi & ~(mapgw_mask64(len) << shift)) | (v << shift);
		return;
	}
	if (start >= 64) {
		shift = 128 - end;
		a->lo = (a->lo & ~(mapgw_mask64(len) << shift)) | (v << shift);
		return;
	}
	lo_bits = end - 64;
	a->hi = (a->hi & ~mapgw_mask64(len - lo_bits)) | (v >> lo_bits);
	a->lo = (a->lo & mapgw_mask64(64 - lo_bits)) | (v << (64 - lo_bits));
}

/* Copy the first @len bits of @src over @dst; the rest of @dst stays. */
MAPGW_INLINE void mapgw_u128_copy_prefix(struct mapgw_u128 *dst, const struct mapgw_u128 *src,
					 __u32 len)
{
	__u64 m;

	if (len <= 64) {
		m = mapgw_top_mask64(len);
		dst->hi = (src->hi & m) | (dst->hi & ~m);
		return;
	}
	m = mapgw_top_mask64(len - 64);
	dst->hi = src->hi;
	dst->lo = (src->lo & m) | (dst->lo & ~m);
}

/* True when the first @len bits of @a and @b are equal. */
MAPGW_INLINE bool mapgw_u128_prefix_eq(const struct mapgw_u128 *a, const struct mapgw_u128 *b,
				       __u32 len)
{
	if (len <= 64)
		return ((a->hi ^ b->hi) & mapgw_top_mask64(len)) == 0;
	return a->hi == b->hi && ((a->lo ^ b->lo) & mapgw_top_mask64(len - 64)) == 0;
}

/* ---- Port sets (RFC 7597 §5.1, Appendix B) ------------------------------ */

/* Number of ports a PSID owns; 65536 when k = 0 (no sharing). */
MAPGW_INLINE __u32 mapgw_port_count(__u32 a, __u32 k)
{
	__u32 m = 16 - a - k;

	if (k == 0)
		return 65536;
	return ((1U << a) - (a > 0 ? 1 : 0)) << m;
}

/* The PSID bits of @port (0 when k = 0). */
MAPGW_INLINE __u16 mapgw_port_psid(__u32 a, __u32 k, __u16 port)
{
	if (k == 0)
		return 0;
	return (__u16)((port >> (16 - a - k)) & mapgw_mask64(k));
}

/* Ports with A = 0 are never part of any set when a > 0 (and k > 0). */
MAPGW_INLINE bool mapgw_port_excluded(__u32 a, __u32 k, __u16 port)
{
	return k > 0 && a > 0 && (port >> (16 - a)) == 0;
}

/* Dense index -> port; @idx must be < mapgw_port_count(a, k). */
MAPGW_INLINE __u16 mapgw_port_from_index(__u32 a, __u32 k, __u16 psid, __u32 idx)
{
	__u32 m = 16 - a - k;
	__u32 A;

	if (k == 0)
		return (__u16)idx;
	A = (idx >> m) + (a > 0 ? 1 : 0);
	return (__u16)(((a > 0 ? A << (16 - a) : 0) | ((__u32)psid << m) | (idx & mapgw_mask64(m))));
}

/* Port -> dense index, or -1 when the port is not in the PSID's set. */
MAPGW_INLINE __s32 mapgw_port_to_index(__u32 a, __u32 k, __u16 psid, __u16 port)
{
	__u32 m = 16 - a - k;
	__u32 A;

	if (k == 0)
		return port;
	if (mapgw_port_psid(a, k, port) != psid || mapgw_port_excluded(a, k, port))
		return -1;
	A = a > 0 ? (__u32)port >> (16 - a) : 0;
	return (__s32)(((A - (a > 0 ? 1 : 0)) << m) | (port & mapgw_mask64(m)));
}

/* ---- Rule arithmetic ---------------------------------------------------- */

/* p: the number of IPv4 suffix bits (may exceed o when o + r < 32). */
MAPGW_INLINE __u32 mapgw_rule_suffix_len(const struct mapgw_rule *r)
{
	return 32 - r->ipv4_len;
}

/* Length of the IPv4 prefix a CE owns: r + o, capped at 32. */
MAPGW_INLINE __u32 mapgw_rule_ce_ipv4_len(const struct mapgw_rule *r)
{
	__u32 l = (__u32)r->ipv4_len + r->ea_len;

	return l > 32 ? 32 : l;
}

/* Does @ipv4 fall inside the rule's IPv4 prefix? */
MAPGW_INLINE bool mapgw_rule_covers_ipv4(const struct mapgw_rule *r, __u32 ipv4)
{
	return ((ipv4 ^ r->ipv4_prefix) & mapgw_top_mask32(r->ipv4_len)) == 0;
}

/* EA bits for a CE owning @ipv4 (prefix bits beyond r + o ignored) and @psid. */
MAPGW_INLINE __u64 mapgw_rule_ea_bits(const struct mapgw_rule *r, __u32 ipv4, __u16 psid)
{
	__u32 p = mapgw_rule_suffix_len(r);
	__u64 suffix = ipv4 & mapgw_mask64(p);

	if (r->ea_len <= p)
		return suffix >> (p - r->ea_len);
	return (suffix << (r->ea_len - p)) | (psid & mapgw_mask64(r->ea_len - p));
}

/*
 * Decode the EA bits of @addr: the CE's IPv4 address (or the first address
 * of its prefix when o + r < 32) and its PSID (the provisioned one when the
 * EA bits carry none).
 */
MAPGW_INLINE void mapgw_rule_decode(const struct mapgw_rule *r, const struct mapgw_u128 *addr,
				    __u32 *ipv4, __u16 *psid)
{
	__u32 p = mapgw_rule_suffix_len(r);
	__u64 ea = mapgw_u128_get_bits(addr, r->ipv6_len, r->ea_len);
	__u64 suffix;

	if (r->ea_len <= p) {
		suffix = ea << (p - r->ea_len);
		*psid = (r->flags & MAPGW_RULE_F_PSID_PROVISIONED) ? r->psid : 0;
	} else {
		suffix = ea >> (r->ea_len - p);
		*psid = (__u16)(ea & mapgw_mask64(r->ea_len - p));
	}
	*ipv4 = (r->ipv4_prefix & mapgw_top_mask32(r->ipv4_len)) | (__u32)(suffix & mapgw_mask64(p));
}

/*
 * The CE's MAP IPv6 address (RFC 7597 §5.2, §6): Rule IPv6 prefix, EA bits,
 * subnet ID 0, interface identifier per layout. When n + o > 64 the prefix
 * overwrites the top of the IID, as §6 says. @ipv4 is masked to r + o bits.
 */
MAPGW_INLINE void mapgw_rule_ce_address(const struct mapgw_rule *r, __u32 ipv4, __u16 psid,
					struct mapgw_u128 *out)
{
	__u32 v4 = ipv4 & mapgw_top_mask32(mapgw_rule_ce_ipv4_len(r));
	__u16 psid_field = r->psid_len ? psid : 0;

	out->hi = 0;
	if (r->flags & MAPGW_RULE_F_LEGACY_IID)
		out->lo = ((__u64)v4 << 24) | ((__u64)psid_field << 8);
	else
		out->lo = ((__u64)v4 << 16) | psid_field;
	mapgw_u128_copy_prefix(out, &r->ipv6_prefix, r->ipv6_len);
	mapgw_u128_set_bits(out, r->ipv6_len, r->ea_len, mapgw_rule_ea_bits(r, ipv4, psid));
}

/*
 * BR direction (RFC 7597 §8): destination @ipv4:@port inside this rule ->
 * the CE address to encapsulate to. Ports outside every port set are
 * refused (excluded A = 0 range; or a port of another PSID when the PSID is
 * provisioned rather than carried in the EA bits).
 */
MAPGW_INLINE enum mapgw_map_status mapgw_rule_br_lookup(const struct mapgw_rule *r, __u32 ipv4,
							__u16 port, struct mapgw_u128 *ce,
							__u16 *psid_out)
{
	__u16 psid = mapgw_port_psid(r->psid_offset, r->psid_len, port);

	if (mapgw_port_excluded(r->psid_offset, r->psid_len, port))
		return MAPGW_MAP_EXCLUDED_PORT;
	if ((r->flags & MAPGW_RULE_F_PSID_PROVISIONED) && psid != r->psid)
		return MAPGW_MAP_WRONG_PSID;
	*psid_out = psid;
	mapgw_rule_ce_address(r, ipv4, psid, ce);
	return MAPGW_MAP_OK;
}

/*
 * RFC 7597 §8.1 receive check: the inner IPv4 source and port must be what
 * the outer IPv6 source's EA bits allow, and the outer source must be exactly
 * the CE address they derive (so a CE cannot use other subnet or IID bits).
 */
MAPGW_INLINE enum mapgw_map_status mapgw_rule_check_source(const struct mapgw_rule *r,
							   const struct mapgw_u128 *outer_src,
							   __u32 inner_ipv4, __u16 inner_port)
{
	struct mapgw_u128 expect;
	__u32 ipv4;
	__u16 psid;

	mapgw_rule_decode(r, outer_src, &ipv4, &psid);
	if (((ipv4 ^ inner_ipv4) & mapgw_top_mask32(mapgw_rule_ce_ipv4_len(r))) != 0)
		return MAPGW_MAP_ADDR_OUTSIDE_RULE;
	if (mapgw_port_excluded(r->psid_offset, r->psid_len, inner_port))
		return MAPGW_MAP_EXCLUDED_PORT;
	if (mapgw_port_psid(r->psid_offset, r->psid_len, inner_port) != psid)
		return MAPGW_MAP_WRONG_PSID;
	mapgw_rule_ce_address(r, inner_ipv4, psid, &expect);
	if (!mapgw_u128_eq(&expect, outer_src))
		return MAPGW_MAP_NOT_CE_ADDRESS;
	return MAPGW_MAP_OK;
}

#endif /* MAPGW_MAP_MATH_H */
