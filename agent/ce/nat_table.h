// The CE's NAT state as the agent sees it: expiry (the sweeper) and the
// operator's views (sessions, ports in use). Works on the kernel maps
// through NatMaps; time is passed in, so tests can move it.
//
// Expiry rules: a session expires after its protocol's timeout (TCP by
// state: established vs transitory) since it was last seen. Both halves go
// together. A binding (and its port) goes once no live session uses its
// port and it has been idle for its protocol's timeout; static NAPT
// entries never expire. ADF markers go with the last session to their
// remote address.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loader/result.h"
#include "loader/ce_dataplane.h"

namespace mapgw {

struct NatTimeouts {
  uint32_t udp_s = 300;               // RFC 4787 REQ-5: >= 120, default 300
  uint32_t tcp_established_s = 7440;  // RFC 5382 REQ-5: >= 2 h 4 min
  uint32_t tcp_transitory_s = 240;    // RFC 5382 REQ-5: 4 min
  uint32_t icmp_s = 60;               // RFC 5508 REQ-1: >= 60 s
};

struct SweepResult {
  uint64_t sessions_seen = 0;
  uint64_t sessions_expired = 0;
  uint64_t bindings_expired = 0;
  uint64_t markers_removed = 0;
};

// @on_delete, if set, sees every session and binding the sweep removes (as
// NAT log events with ts_ns = @now_ns).
Result<SweepResult> sweep_nat(const NatMaps& maps, const NatTimeouts& timeouts, uint64_t now_ns,
                              const std::function<void(const mapgw_natlog_event&)>& on_delete = {});

// Remove all dynamic NAT state (sessions, bindings, port owners, ADF
// markers); static NAPT entries stay, and the flow cache's copies of what
// was removed are retired (maps.route_ctl). For when the mapping itself
// changed. Returns the number of sessions removed.
Result<uint64_t> flush_nat(const NatMaps& maps);

// Deletes reverse entries without the session they belong to (an ADF
// marker aside): an inbound path no sweep would ever see. Versions before
// the all-or-nothing session insert could leave them in pinned maps; a
// start adopting those maps removes them. Returns how many.
Result<uint64_t> remove_orphan_reverse_entries(const NatMaps& maps);

// Sessions by protocol (IPPROTO_*) and TCP state (MAPGW_TCP_*; 0 for UDP
// and ICMP), counted without building a view of each (a scrape of a CE
// holding a million sessions).
using NatSessionCounts = std::map<std::pair<uint8_t, uint8_t>, uint64_t>;
Result<NatSessionCounts> count_sessions(const NatMaps& maps);
const char* tcp_state_name(uint8_t state);

struct NatSessionView {
  uint8_t proto;
  std::string inside;    // a.b.c.d:port
  uint16_t ext_port;
  std::string remote;
  std::string state;     // TCP state, or "-"
  uint64_t age_s;
  uint64_t idle_s;
};

Result<std::vector<NatSessionView>> list_sessions(const NatMaps& maps, uint64_t now_ns,
                                                  std::optional<uint32_t> host,
                                                  std::optional<uint8_t> proto);

struct NatPortView {
  uint8_t proto;
  uint16_t ext_port;
  std::string inside;
  bool is_static;
};

Result<std::vector<NatPortView>> list_ports_in_use(const NatMaps& maps);

const char* proto_name(uint8_t proto);
uint64_t monotonic_ns();

}  // namespace mapgw
