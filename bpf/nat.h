/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NAT44 confined to the CE's port set (RFC 7597 §8, v6plus book §5, §8.2.7;
 * RFC 4787, 5382, 5508, 7857). Shared by the XDP fast path and TC slow path.
 *
 * Mapping is endpoint-independent: one inside endpoint gets one external
 * port (binding), claimed atomically by inserting its owner entry with
 * BPF_NOEXIST. Candidates: the original port if it is in the set, then the
 * set's dense index probed from a hashed start, same parity first. When no
 * port is free, a port already bound is shared if no session of it goes to
 * the same remote address and port (the 5-tuple stays unique): exhaustion
 * only happens when many sessions go to one remote endpoint (book §8.2.7).
 * Filtering is EIF, ADF or APDF per config; static NAPT entries are owner
 * entries with MAPGW_NAT_F_STATIC and always pass.
 *
 * ICMP queries use the identifier as the port on our side and 0 as the
 * remote port.
 */
#ifndef MAPGW_NAT_H
#define MAPGW_NAT_H

#include "ce_maps.h"
#include "checksum.h"
#include "counters.h"
#include "encap.h"
#include "frag.h"
#include "map_math.h"
#include "map_port.h"
#include "parsing.h"

#define NAT_OK MAPGW_CNT_MAX

/* NAT time: CLOCK_MONOTONIC at jiffy resolution (what the sweeper compares
 * with), a plain read instead of a clock-source access per packet. */
static __always_inline __u64 nat_clock(void)
{
	return bpf_ktime_get_coarse_ns();
}
#define NAT_TOUCH_NS 1000000000ULL /* write last_seen at most once a second */
#define NAT_TICK_SHIFT 30	    /* rsess.touched: ~1.07 s ticks */
#define NAT_MAX_PROBES 1024
#define NAT_EVENT_GAP_NS 100000000ULL

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04

/* The identifiers NAT works on; addresses and ports in network order. */
struct nat_tuple {
	__u32 saddr;
	__u32 daddr;
	__u16 sport; /* ICMP query: the identifier (outbound) */
	__u16 dport; /* ICMP query: the identifier (inbound) */
	__u8 proto;
	__u8 tcp_flags;
	__u8 has_ports; /* 0 for later fragments */
	__u8 icmp_query;
};

/*
 * Fill @t from a parsed IPv4 header and the cursor at L4. @outbound says
 * which side of an ICMP query identifier is "ours". Returns NAT_OK, or the
 * drop counter (protocol that cannot cross, malformed L4).
 */
static __always_inline enum mapgw_counter nat_tuple_of(struct iphdr *ip, struct hdr_cursor *l4,
						       bool outbound, struct nat_tuple *t)
{
	t->saddr = ip->saddr;
	t->daddr = ip->daddr;
	t->proto = ip->protocol;
	t->sport = t->dport = 0;
	t->tcp_flags = 0;
	t->icmp_query = 0;
	t->has_ports = !ipv4_is_later_fragment(ip);
	if (ip->protocol == MAPGW_IPPROTO_TCP) {
		struct tcphdr *tcp = l4->pos;

		if (!t->has_ports)
			return NAT_OK;
		if ((void *)(tcp + 1) > l4->end)
			return MAPGW_CNT_DROP_MALFORMED_L4;
		t->sport = tcp->source;
		t->dport = tcp->dest;
		t->tcp_flags = (tcp->fin ? TCPF_FIN : 0) | (tcp->syn ? TCPF_SYN : 0) |
			       (tcp->rst ? TCPF_RST : 0);
		return NAT_OK;
	}
	if (ip->protocol == MAPGW_IPPROTO_UDP) {
		struct udphdr *udp = l4->pos;

		if (!t->has_ports)
			return NAT_OK;
		if ((void *)(udp + 1) > l4->end)
			return MAPGW_CNT_DROP_MALFORMED_L4;
		t->sport = udp->source;
		t->dport = udp->dest;
		return NAT_OK;
	}
	if (ip->protocol == MAPGW_IPPROTO_ICMP) {
		struct icmp_query_hdr *q = l4->pos;

		if (!t->has_ports)
			return NAT_OK;
		if ((void *)(q + 1) > l4->end)
			return MAPGW_CNT_DROP_MALFORMED_L4;
		if (!icmp_is_query(q->type))
			return NAT_OK; /* errors are handled by the caller */
		t->icmp_query = 1;
		if (outbound)
			t->sport = q->id;
		else
			t->dport = q->id;
		return NAT_OK;
	}
	return MAPGW_CNT_DROP_NAT_PROTOCOL; /* only TCP, UDP and ICMP cross (book §8.3) */
}

static __always_inline __u8 tcp_next_state(__u8 st, __u8 flags, bool outbound)
{
	if (flags & TCPF_RST)
		return MAPGW_TCP_CLOSING;
	if (flags & TCPF_FIN) {
		if (st == MAPGW_TCP_CLOSING || (st == MAPGW_TCP_FIN_IN && outbound) ||
		    (st == MAPGW_TCP_FIN_OUT && !outbound))
			return MAPGW_TCP_CLOSING;
		return outbound ? MAPGW_TCP_FIN_OUT : MAPGW_TCP_FIN_IN;
	}
	if (st == MAPGW_TCP_NONE)
		return outbound ? MAPGW_TCP_SYN_OUT : MAPGW_TCP_SYN_IN;
	if ((st == MAPGW_TCP_SYN_OUT && !outbound) || (st == MAPGW_TCP_SYN_IN && outbound))
		return MAPGW_TCP_ESTABLISHED;
	return st;
}

static __always_inline void nat_touch_session(struct mapgw_nat_sess *s, const struct nat_tuple *t,
					      bool outbound, __u64 now)
{
	if (t->proto == MAPGW_IPPROTO_TCP) {
		__u8 next = tcp_next_state(s->tcp_state, t->tcp_flags, outbound);

		if (next != s->tcp_state)
			s->tcp_state = next;
	}
	if (now - s->last_seen_ns >= NAT_TOUCH_NS)
		s->last_seen_ns = now;
}

static __always_inline void nat_event(__u32 type, __u32 in_addr, __u8 proto, __u64 now)
{
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&mapgw_event_clock, &zero);
	struct mapgw_event ev = {.type = type, .in_addr = in_addr, .proto = proto};

	if (!last || now - *last < NAT_EVENT_GAP_NS)
		return;
	*last = now;
	bpf_ringbuf_output(&mapgw_events, &ev, sizeof(ev), 0);
}

/* NAT log: bounded cost (a token bucket per CPU; a full ring buffer loses
 * the event), never blocks or drops the packet. The event is written in
 * place (reserve/submit): a copy on the stack would add to the CE's deepest
 * call chain, which must stay within 512 bytes. */
static __always_inline void nat_log(const struct mapgw_ce_config *cfg, __u8 type, __u8 proto,
				    __u32 in_addr, __u16 in_port, __u16 ext_port, __u32 rem_addr,
				    __u16 rem_port, __u64 now)
{
	struct mapgw_natlog_event *ev;
	struct natlog_bucket *b;
	__u32 zero = 0;
	__u64 refill;

	b = bpf_map_lookup_elem(&mapgw_natlog_bucket, &zero);
	if (!b)
		return;
	refill = (now - b->last_ns) * cfg->natlog_rate / 1000000000ULL;
	if (refill) {
		b->tokens += refill;
		if (b->tokens > cfg->natlog_rate)
			b->tokens = cfg->natlog_rate; /* a burst of one second at most */
		b->last_ns = now;
	}
	if (!b->tokens) {
		count(MAPGW_CNT_NATLOG_RATE_LIMITED, 0);
		return;
	}
	b->tokens--;
	ev = bpf_ringbuf_reserve(&mapgw_nat_log, sizeof(*ev), 0);
	if (!ev) {
		count(MAPGW_CNT_NATLOG_LOST, 0);
		return;
	}
	ev->ts_ns = now;
	ev->in_addr = in_addr;
	ev->rem_addr = rem_addr;
	ev->in_port = in_port;
	ev->ext_port = ext_port;
	ev->rem_port = rem_port;
	ev->type = type;
	ev->proto = proto;
	bpf_ringbuf_submit(ev, 0);
	count(MAPGW_CNT_NATLOG_WRITTEN, 0);
}

/* ---- port claiming ------------------------------------------------------ */

struct claim_ctx {
	struct mapgw_nat_port_key key;
	struct mapgw_nat_port owner;
	struct mapgw_nat_rsess_key rkey; /* for the reuse search */
	struct mapgw_nat_rsess rval;
	__u32 start;
	__u32 count;
	__u16 psid;
	__u8 a;
	__u8 k;
	__u8 parity;	  /* wanted port parity, 2 = any; the reuse search:
			   * CLAIM_BOUND_ONLY, or anything else for any port */
	__u8 found;
	__u16 port;	  /* host order */
};

static __always_inline __u16 claim_candidate(struct claim_ctx *c, __u32 i)
{
	__u32 idx = c->start + i;

	if (idx >= c->count)
		idx -= c->count;
	return mapgw_port_from_index(c->a, c->k, c->psid, idx);
}

/* Never hand out port 0, nor, without sharing, the well-known ports. */
static __always_inline bool claim_port_usable(struct claim_ctx *c, __u16 port)
{
	return port != 0 && (c->k > 0 || port >= 1024);
}

static long claim_cb(__u32 i, void *data)
{
	struct claim_ctx *c = data;
	__u16 port = claim_candidate(c, i);

	if (!claim_port_usable(c, port) || (c->parity < 2 && (port & 1) != c->parity))
		return 0;
	c->key.ext_port = bpf_htons(port);
	if (bpf_map_update_elem(&mapgw_nat_ports, &c->key, &c->owner, BPF_NOEXIST) == 0) {
		c->found = 1;
		c->port = port;
		return 1;
	}
	return 0;
}

/* The reuse search of a host that holds its share of the set: only ports
 * bound already (by anyone), never a free one it could not bind. */
#define CLAIM_BOUND_ONLY 3

/* Claims the outside key (remote, port) itself: a lookup followed by a
 * later insert would let two CPUs pick the same port for one remote. */
static long reuse_cb(__u32 i, void *data)
{
	struct claim_ctx *c = data;
	__u16 port = claim_candidate(c, i);

	if (!claim_port_usable(c, port))
		return 0;
	if (c->parity == CLAIM_BOUND_ONLY) {
		c->key.ext_port = bpf_htons(port);
		if (!bpf_map_lookup_elem(&mapgw_nat_ports, &c->key))
			return 0;
	}
	c->rkey.ext_port = bpf_htons(port);
	if (bpf_map_update_elem(&mapgw_nat_rsessions, &c->rkey, &c->rval, BPF_NOEXIST) == 0) {
		c->found = 1;
		c->port = port;
		return 1;
	}
	return 0;
}

static __always_inline void claim_init(struct claim_ctx *c, const struct mapgw_ce_config *cfg,
				       const struct nat_tuple *t, __u64 now)
{
	__u32 n = mapgw_port_count(cfg->psid_offset, cfg->psid_len);

	__builtin_memset(c, 0, sizeof(*c));
	c->a = cfg->psid_offset;
	c->k = cfg->psid_len;
	c->psid = cfg->psid;
	c->key.proto = t->proto;
	c->owner.last_seen_ns = now;
	c->owner.in_addr = t->saddr;
	c->owner.in_port = t->sport;
	c->count = n;
	c->start = hash_mix32(t->saddr ^ ((__u32)t->sport << 16) ^ t->proto) % n;
	c->parity = bpf_ntohs(t->sport) & 1;
}

/* One more in entry @key of the per-host count @made_map (sessions created
 * per host, bindings made per host and protocol). */
static __always_inline void nat_host_add(void *made_map, const void *key)
{
	struct mapgw_nat_host_count one = {.count = 1}, *made;

	made = bpf_map_lookup_elem(made_map, key);
	if (made)
		__sync_fetch_and_add(&made->count, 1);
	else if (bpf_map_update_elem(made_map, key, &one, BPF_NOEXIST) != 0 &&
		 (made = bpf_map_lookup_elem(made_map, key)))
		__sync_fetch_and_add(&made->count, 1);
}

/*
 * A new binding @bk for the inside endpoint of @t: claim a port, then insert
 * the binding. Returns 0 and *port (network order), or -1 when the set is full.
 * @c is the caller's scratch: one claim context per nat_out() frame keeps
 * the CE's deepest call chain within the 512-byte stack Debian 12's 6.1
 * verifier allows (it counts bpf_loop callbacks' frames too).
 */
static __always_inline int nat_new_binding(const struct mapgw_ce_config *cfg,
					   const struct nat_tuple *t,
					   const struct mapgw_nat_bind_key *bk, __u64 now,
					   struct claim_ctx *c, __u16 *port)
{
	struct mapgw_nat_bind bv = {.last_seen_ns = now};
	struct mapgw_nat_bind *existing;
	__u16 orig = bpf_ntohs(t->sport);
	__u32 probes;

	claim_init(c, cfg, t, now);
	/* Keep the original port when it is ours and free (RFC 4787 REQ-3 spirit). */
	if (mapgw_port_to_index(c->a, c->k, c->psid, orig) >= 0 && claim_port_usable(c, orig)) {
		c->key.ext_port = t->sport;
		if (bpf_map_update_elem(&mapgw_nat_ports, &c->key, &c->owner, BPF_NOEXIST) == 0) {
			c->found = 1;
			c->port = orig;
			count(MAPGW_CNT_NAT_PORT_KEPT, 0);
		}
	}
	probes = c->count < NAT_MAX_PROBES ? c->count : NAT_MAX_PROBES;
	if (!c->found)
		bpf_loop(probes, claim_cb, c, 0);  /* same parity (RFC 4787 REQ-4) */
	if (!c->found) {
		c->parity = 2;
		bpf_loop(probes, claim_cb, c, 0);
	}
	if (!c->found)
		return -1;
	bv.ext_port = bpf_htons(c->port);
	if (bpf_map_update_elem(&mapgw_nat_binds, bk, &bv, BPF_NOEXIST) != 0) {
		/* Another CPU bound this endpoint meanwhile: use its port. */
		c->key.ext_port = bpf_htons(c->port);
		bpf_map_delete_elem(&mapgw_nat_ports, &c->key);
		existing = bpf_map_lookup_elem(&mapgw_nat_binds, bk);
		if (!existing)
			return -1;
		*port = existing->ext_port;
		return 0;
	}
	count(MAPGW_CNT_NAT_BINDING_CREATED, 0);
	{
		struct mapgw_nat_host_proto hp = {.host = t->saddr, .proto = t->proto};

		nat_host_add(&mapgw_nat_host_bound, &hp);
	}
	if (cfg->flags & MAPGW_CE_F_NATLOG_BINDINGS)
		nat_log(cfg, MAPGW_NATLOG_BINDING_CREATE, t->proto, t->saddr, t->sport, bv.ext_port,
			0, 0, now);
	*port = bv.ext_port;
	return 0;
}

/*
 * No port of our own for this endpoint: share a bound port that has no
 * session to this remote endpoint (@t's address, @rem_port), claiming that
 * 5-tuple's outside key.
 */
static __always_inline int nat_reusable_port(const struct mapgw_ce_config *cfg,
					     const struct nat_tuple *t, __u16 rem_port, __u64 now,
					     struct claim_ctx *c, __u16 *port, bool bound_only)
{
	claim_init(c, cfg, t, now);
	if (bound_only)
		c->parity = CLAIM_BOUND_ONLY;
	c->rkey.rem_addr = t->daddr;
	c->rkey.rem_port = rem_port;
	c->rkey.proto = t->proto;
	c->rval.in_addr = t->saddr;
	c->rval.in_port = t->sport;
	bpf_loop(c->count < NAT_MAX_PROBES ? c->count : NAT_MAX_PROBES, reuse_cb, c, 0);
	if (!c->found)
		return -1;
	*port = bpf_htons(c->port);
	return 0;
}

static __always_inline bool nat_host_over_limit(const struct mapgw_ce_config *cfg, __u32 host)
{
	struct mapgw_nat_host_count *made, *gone;

	if (!cfg->host_session_limit)
		return false;
	made = bpf_map_lookup_elem(&mapgw_nat_host_created, &host);
	if (!made)
		return false;
	gone = bpf_map_lookup_elem(&mapgw_nat_host_deleted, &host);
	return made->count - (gone ? gone->count : 0) >= cfg->host_session_limit;
}

static __always_inline void nat_host_count(__u32 host)
{
	nat_host_add(&mapgw_nat_host_created, &host);
}

/*
 * Does @host hold its share of @proto's port set already (mapgw_nat_policy)?
 * Then its new inside endpoints share bound ports by 5-tuple instead of
 * taking fresh ones: one host cannot take every port — and with them every
 * 5-tuple to one remote endpoint — from the others.
 */
static __always_inline bool nat_host_ports_full(__u32 host, __u8 proto)
{
	struct mapgw_nat_host_proto hp = {.host = host, .proto = proto};
	struct mapgw_nat_host_count *bound, *unbound;
	struct mapgw_nat_policy *pol;
	__u32 zero = 0;

	pol = bpf_map_lookup_elem(&mapgw_nat_policy, &zero);
	if (!pol || !pol->host_port_limit)
		return false;
	bound = bpf_map_lookup_elem(&mapgw_nat_host_bound, &hp);
	if (!bound)
		return false;
	unbound = bpf_map_lookup_elem(&mapgw_nat_host_unbound, &hp);
	if (unbound && unbound->count >= bound->count)
		return false; /* bindings of a run before these counts */
	return bound->count - (unbound ? unbound->count : 0) >= pol->host_port_limit;
}

#define MAPGW_EEXIST 17

/*
 * Both halves of a new session (inside key @sk, outside key) plus the ADF
 * marker, all or nothing: a reverse entry without its session would be an
 * inbound path past the filter that no sweep ever removes (the sweeper walks
 * sessions). The session goes in first and is taken out again when a later
 * half cannot follow. @ext_port: network order. The session key comes by
 * pointer: nine scalars live across the map calls would be spilled to the
 * stack of nat_out(), whose chain must stay within 512 bytes.
 */
static __always_inline enum mapgw_counter nat_add_session(const struct mapgw_ce_config *cfg,
							  const struct mapgw_nat_sess_key *sk,
							  __u16 ext_port, __u8 state, __u64 now)
{
	struct mapgw_nat_rsess_key rk = {.rem_addr = sk->rem_addr, .ext_port = ext_port,
					 .rem_port = sk->rem_port, .proto = sk->proto};
	struct mapgw_nat_rsess rv = {.in_addr = sk->in_addr, .in_port = sk->in_port,
				     .touched = (__u16)(now >> NAT_TICK_SHIFT)};
	struct mapgw_nat_sess sv = {.last_seen_ns = now, .created_ns = now, .ext_port = ext_port,
				    .tcp_state = state};
	struct mapgw_nat_rsess *other;
	long err;

	err = bpf_map_update_elem(&mapgw_nat_sessions, sk, &sv, BPF_NOEXIST);
	if (err == -MAPGW_EEXIST)
		return MAPGW_CNT_DROP_NAT_SESSION_EXISTS; /* through another port, or another CPU's */
	if (err) {
		/* The reuse search may have claimed the outside half already. */
		other = bpf_map_lookup_elem(&mapgw_nat_rsessions, &rk);
		if (other && other->in_addr == sk->in_addr && other->in_port == sk->in_port)
			bpf_map_delete_elem(&mapgw_nat_rsessions, &rk);
		return MAPGW_CNT_DROP_NAT_TABLE_FULL;
	}
	if (bpf_map_update_elem(&mapgw_nat_rsessions, &rk, &rv, BPF_NOEXIST) != 0) {
		other = bpf_map_lookup_elem(&mapgw_nat_rsessions, &rk);
		if (!other) {
			bpf_map_delete_elem(&mapgw_nat_sessions, sk);
			return MAPGW_CNT_DROP_NAT_TABLE_FULL;
		}
		if (other->in_addr != sk->in_addr || other->in_port != sk->in_port) {
			bpf_map_delete_elem(&mapgw_nat_sessions, sk);
			return MAPGW_CNT_DROP_NAT_RACE; /* 5-tuple taken meanwhile */
		}
	}
	if (cfg->filtering == MAPGW_FILTER_ADDRESS_DEPENDENT) {
		rk.rem_port = 0;
		rk.flags = MAPGW_RSESS_F_ADDR_ONLY;
		if (bpf_map_update_elem(&mapgw_nat_rsessions, &rk, &rv, BPF_ANY) != 0) {
			rk.rem_port = sk->rem_port;
			rk.flags = 0;
			bpf_map_delete_elem(&mapgw_nat_rsessions, &rk);
			bpf_map_delete_elem(&mapgw_nat_sessions, sk);
			return MAPGW_CNT_DROP_NAT_TABLE_FULL;
		}
	}
	nat_host_count(sk->in_addr);
	count(MAPGW_CNT_NAT_SESSION_CREATED, 0);
	if (cfg->flags & MAPGW_CE_F_NATLOG_SESSIONS)
		nat_log(cfg, MAPGW_NATLOG_SESSION_CREATE, sk->proto, sk->in_addr, sk->in_port,
			ext_port, sk->rem_addr, sk->rem_port, now);
	return NAT_OK;
}

/*
 * Outbound: the external port for the inside endpoint of @t towards its
 * remote endpoint, creating binding and session as needed.
 *
 * nat_out() and nat_in() are global BPF functions, not inlined: the
 * verifier checks each once, on its own, instead of once per path through
 * every caller (mapgw_ce_lan went from ~880k to far fewer instructions).
 * They see only the tuple and the config, never the packet.
 */
__attribute__((noinline)) int nat_out(const struct mapgw_ce_config *cfg,
				      const struct nat_tuple *t, __u64 now, __u16 *ext_port)
{
	struct mapgw_nat_sess_key sk = {};
	struct mapgw_nat_bind_key bk = {};
	struct mapgw_nat_sess *s;
	struct mapgw_nat_bind *b;
	enum mapgw_counter why;
	struct claim_ctx claim;
	__u16 port, rem_port;
	bool capped = false;
	__u8 state;

	if (!cfg || !t || !ext_port)
		return MAPGW_CNT_DROP_NOT_PROVISIONED;
	rem_port = t->icmp_query ? 0 : t->dport;
	sk.in_addr = t->saddr;
	sk.rem_addr = t->daddr;
	sk.in_port = t->sport;
	sk.rem_port = rem_port;
	sk.proto = t->proto;
	bk.addr = t->saddr;
	bk.port = t->sport;
	bk.proto = t->proto;
	s = bpf_map_lookup_elem(&mapgw_nat_sessions, &sk);
	if (s) {
		*ext_port = s->ext_port;
		/* The binding lives while a session of it does: refreshed when the
		 * session is (once a second), not looked up per packet. */
		if (now - s->last_seen_ns >= NAT_TOUCH_NS) {
			b = bpf_map_lookup_elem(&mapgw_nat_binds, &bk);
			if (b)
				b->last_seen_ns = now;
		}
		nat_touch_session(s, t, true, now);
		return NAT_OK;
	}
	if (nat_host_over_limit(cfg, t->saddr))
		return MAPGW_CNT_DROP_NAT_HOST_LIMIT;
	b = bpf_map_lookup_elem(&mapgw_nat_binds, &bk);
	if (b) {
		port = b->ext_port;
		b->last_seen_ns = now;
	} else {
		capped = nat_host_ports_full(t->saddr, t->proto);
		if (capped || nat_new_binding(cfg, t, &bk, now, &claim, &port) != 0) {
			if (nat_reusable_port(cfg, t, rem_port, now, &claim, &port, capped) != 0) {
				nat_event(MAPGW_EVENT_PORTS_EXHAUSTED, t->saddr, t->proto, now);
				return capped ? MAPGW_CNT_DROP_NAT_HOST_PORTS : MAPGW_CNT_DROP_NAT_EXHAUSTED;
			}
			count(MAPGW_CNT_NAT_PORT_REUSED, 0);
		}
	}
	state = t->proto == MAPGW_IPPROTO_TCP ? tcp_next_state(MAPGW_TCP_NONE, t->tcp_flags, true) :
						 MAPGW_TCP_NONE;
	why = nat_add_session(cfg, &sk, port, state, now);
	if (why == MAPGW_CNT_DROP_NAT_RACE) {
		/* Our own port already carries another endpoint's session to this
		 * very remote (a shared port): this session takes another port. */
		if (nat_reusable_port(cfg, t, rem_port, now, &claim, &port, capped) != 0)
			return MAPGW_CNT_DROP_NAT_EXHAUSTED;
		count(MAPGW_CNT_NAT_PORT_REUSED, 0);
		why = nat_add_session(cfg, &sk, port, state, now);
	}
	if (why == MAPGW_CNT_DROP_NAT_SESSION_EXISTS) {
		/* Another CPU made this very session meanwhile: use it. */
		s = bpf_map_lookup_elem(&mapgw_nat_sessions, &sk);
		if (!s)
			return MAPGW_CNT_DROP_NAT_RACE;
		port = s->ext_port;
		why = NAT_OK;
	}
	*ext_port = port;
	return why;
}

/*
 * Inbound: the inside endpoint for a packet from @t->saddr:@t->sport to our
 * external port @t->dport, subject to the filtering mode.
 */
__attribute__((noinline)) int nat_in(const struct mapgw_ce_config *cfg, const struct nat_tuple *t,
				     __u64 now, __u32 *in_addr, __u16 *in_port)
{
	struct mapgw_nat_rsess_key rk = {};
	struct mapgw_nat_port_key pk = {};
	struct mapgw_nat_sess_key sk = {};
	struct mapgw_nat_rsess *r;
	struct mapgw_nat_sess *s;
	struct mapgw_nat_port *o;
	__u16 rem_port;

	if (!cfg || !t || !in_addr || !in_port)
		return MAPGW_CNT_DROP_NOT_PROVISIONED;
	rem_port = t->icmp_query ? 0 : t->sport;
	rk.rem_addr = t->saddr;
	rk.ext_port = t->dport;
	rk.rem_port = rem_port;
	rk.proto = t->proto;
	pk.ext_port = t->dport;
	pk.proto = t->proto;
	sk.rem_addr = t->saddr;
	sk.rem_port = rem_port;
	sk.proto = t->proto;
	r = bpf_map_lookup_elem(&mapgw_nat_rsessions, &rk);
	if (r) {
		*in_addr = r->in_addr;
		*in_port = r->in_port;
		/* The session itself is needed once a tick (to keep it alive)
		 * and for TCP flags (state); otherwise this half is enough. */
		if (r->touched == (__u16)(now >> NAT_TICK_SHIFT) && !t->tcp_flags)
			return NAT_OK;
		sk.in_addr = r->in_addr;
		sk.in_port = r->in_port;
		s = bpf_map_lookup_elem(&mapgw_nat_sessions, &sk);
		if (s)
			nat_touch_session(s, t, false, now);
		r->touched = (__u16)(now >> NAT_TICK_SHIFT);
		return NAT_OK;
	}
	o = bpf_map_lookup_elem(&mapgw_nat_ports, &pk);
	if (!o)
		return MAPGW_CNT_DROP_NAT_NO_MAPPING;
	if (!(o->flags & MAPGW_NAT_F_STATIC)) {
		if (cfg->filtering == MAPGW_FILTER_ADDRESS_PORT_DEPENDENT)
			return MAPGW_CNT_DROP_NAT_FILTERED;
		if (cfg->filtering == MAPGW_FILTER_ADDRESS_DEPENDENT) {
			rk.rem_port = 0;
			rk.flags = MAPGW_RSESS_F_ADDR_ONLY;
			if (!bpf_map_lookup_elem(&mapgw_nat_rsessions, &rk))
				return MAPGW_CNT_DROP_NAT_FILTERED;
		}
	}
	*in_addr = o->in_addr;
	*in_port = o->in_port;
	if (nat_host_over_limit(cfg, o->in_addr))
		return MAPGW_CNT_DROP_NAT_HOST_LIMIT;
	sk.in_addr = o->in_addr;
	sk.in_port = o->in_port;
	return nat_add_session(cfg, &sk, t->dport,
			       t->proto == MAPGW_IPPROTO_TCP ?
				       tcp_next_state(MAPGW_TCP_NONE, t->tcp_flags, false) :
				       MAPGW_TCP_NONE,
			       now);
}

/* ---- rewriting ------------------------------------------------------------ */

/*
 * Replace one endpoint (source when @src) of the packet: address in the IPv4
 * header, port/identifier in L4, with incremental checksums. A UDP checksum
 * of zero (none) stays zero; a computed zero becomes 0xffff.
 */
static __always_inline int nat_rewrite(struct iphdr *ip, void *l4, void *end, bool src,
				       __u32 new_addr, __u16 new_port, bool has_ports)
{
	__u32 old_addr = src ? ip->saddr : ip->daddr;

	csum_replace4(&ip->check, old_addr, new_addr);
	if (src)
		ip->saddr = new_addr;
	else
		ip->daddr = new_addr;
	if (!has_ports)
		return 0;
	if (ip->protocol == MAPGW_IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		__u16 *p;

		if ((void *)(tcp + 1) > end)
			return -1;
		p = src ? &tcp->source : &tcp->dest;
		csum_replace4(&tcp->check, old_addr, new_addr);
		csum_replace2(&tcp->check, *p, new_port);
		*p = new_port;
	} else if (ip->protocol == MAPGW_IPPROTO_UDP) {
		struct udphdr *udp = l4;
		__u16 *p;

		if ((void *)(udp + 1) > end)
			return -1;
		p = src ? &udp->source : &udp->dest;
		if (udp->check) {
			csum_replace4(&udp->check, old_addr, new_addr);
			csum_replace2(&udp->check, *p, new_port);
			if (!udp->check)
				udp->check = 0xffff;
		}
		*p = new_port;
	} else if (ip->protocol == MAPGW_IPPROTO_ICMP) {
		struct icmp_query_hdr *q = l4;

		if ((void *)(q + 1) > end)
			return -1;
		csum_replace2(&q->checksum, q->id, new_port);
		q->id = new_port;
	}
	return 0;
}

#endif /* MAPGW_NAT_H */
