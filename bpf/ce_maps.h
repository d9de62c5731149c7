/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * CE NAT state. Preallocated hash maps, not LRU: LRU could evict one half
 * of a binding or session pair and leave the other dangling. Expiry is the
 * agent's sweeper, which deletes both halves together. Sizes here are
 * defaults; the loader sets the configured ones before load.
 */
#ifndef MAPGW_CE_MAPS_H
#define MAPGW_CE_MAPS_H

#include "maps_common.h"

#define MAPGW_DEFAULT_SESSIONS 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAPGW_DEFAULT_SESSIONS);
	__type(key, struct mapgw_nat_bind_key);
	__type(value, struct mapgw_nat_bind);
} mapgw_nat_binds SEC(".maps");

/* Every port of a 65536-port set, for TCP, UDP and ICMP. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 3 * 65536);
	__type(key, struct mapgw_nat_port_key);
	__type(value, struct mapgw_nat_port);
} mapgw_nat_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAPGW_DEFAULT_SESSIONS);
	__type(key, struct mapgw_nat_sess_key);
	__type(value, struct mapgw_nat_sess);
} mapgw_nat_sessions SEC(".maps");

/* Sessions plus ADF markers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MAPGW_DEFAULT_SESSIONS);
	__type(key, struct mapgw_nat_rsess_key);
	__type(value, struct mapgw_nat_rsess);
} mapgw_nat_rsessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mapgw_nat_host_count);
} mapgw_nat_host_created SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct mapgw_nat_host_count);
} mapgw_nat_host_deleted SEC(".maps");

/* Bindings per LAN host and protocol, the same way: made (BPF) and removed
 * (sweeper). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct mapgw_nat_host_proto);
	__type(value, struct mapgw_nat_host_count);
} mapgw_nat_host_bound SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct mapgw_nat_host_proto);
	__type(value, struct mapgw_nat_host_count);
} mapgw_nat_host_unbound SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mapgw_nat_policy);
} mapgw_nat_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} mapgw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mapgw_ce_config);
} mapgw_ce_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAPGW_MAX_FILTER_RULES);
	__type(key, __u32);
	__type(value, struct mapgw_filter_rule);
} mapgw_filter SEC(".maps");

/* NAT log events; never blocks a packet: when full, the event is lost
 * (counted as natlog_lost). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} mapgw_nat_log SEC(".maps");

struct natlog_bucket {
	__u64 tokens;
	__u64 last_ns;
};

/* Token bucket per CPU for the NAT log. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct natlog_bucket);
} mapgw_natlog_bucket SEC(".maps");

/* Last exhaustion event per CPU, to rate-limit them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mapgw_event_clock SEC(".maps");

#endif /* MAPGW_CE_MAPS_H */
