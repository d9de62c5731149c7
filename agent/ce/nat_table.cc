#include "agent/ce/nat_table.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <time.h>

#include <array>
#include <cerrno>
#include <map>
#include <memory>
#include <unordered_map>

#include "agent/net/ip.h"
#include "loader/route_ctl.h"

namespace mapgw {
namespace {

constexpr uint64_t kNs = 1'000'000'000ULL;

// Every entry of a hash map, a few thousand per system call.
template <typename K, typename V, typename F>
Status for_each_entry(int fd, const char* name, F&& fn) {
  constexpr uint32_t kChunk = 4096;
  std::vector<K> keys(kChunk);
  std::vector<V> vals(kChunk);
  uint64_t in_batch = 0, out_batch = 0;
  bool first = true;
  for (;;) {
    uint32_t count = kChunk;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                   vals.data(), &count, &opts);
    const int e = errno;
    for (uint32_t i = 0; i < count; ++i) fn(keys[i], vals[i]);
    if (err) {
      if (e == ENOENT) return Status::Ok();
      return make_error(std::string("reading map ") + name, e);
    }
    in_batch = out_batch;
    first = false;
  }
}

template <typename K>
Status delete_keys(int fd, std::vector<K>& keys, const char* name) {
  if (keys.empty()) return Status::Ok();
  uint32_t count = static_cast<uint32_t>(keys.size());
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (bpf_map_delete_batch(fd, keys.data(), &count, &opts) == 0) return Status::Ok();
  // A key may be gone already (a racing insert failed and cleaned up): go
  // one by one and ignore ENOENT.
  for (auto& k : keys) {
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
      return make_error(std::string("deleting from map ") + name, errno);
    }
  }
  return Status::Ok();
}

uint64_t timeout_ns(const NatTimeouts& t, uint8_t proto, uint8_t tcp_state) {
  switch (proto) {
    case IPPROTO_TCP:
      return uint64_t{tcp_state == MAPGW_TCP_ESTABLISHED ? t.tcp_established_s
                                                         : t.tcp_transitory_s} * kNs;
    case IPPROTO_UDP:
      return uint64_t{t.udp_s} * kNs;
    default:
      return uint64_t{t.icmp_s} * kNs;
  }
}

uint64_t idle_ns(uint64_t now, uint64_t last) { return now > last ? now - last : 0; }

// One bit per (protocol, external port): a sweep asks it once per binding
// and port owner, and sets it once per live session (a million a second on
// a big CE; a tree of pairs took 1.8 s per sweep of 1 M sessions).
class PortBits {
 public:
  void set(uint8_t proto, uint16_t port) { word(proto, port) |= bit(port); }
  bool test(uint8_t proto, uint16_t port) const {
    return (bits_[slot(proto)][port >> 6] & bit(port)) != 0;
  }

 private:
  static size_t slot(uint8_t proto) {
    return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;  // ICMP ids
  }
  static uint64_t bit(uint16_t port) { return uint64_t{1} << (port & 63); }
  uint64_t& word(uint8_t proto, uint16_t port) { return bits_[slot(proto)][port >> 6]; }
  std::array<std::array<uint64_t, 65536 / 64>, 3> bits_{};
};

// (protocol, port, IPv4 address) as one word: an inside endpoint, or a
// remote address behind an external port.
uint64_t endpoint_key(uint8_t proto, uint16_t port, uint32_t addr) {
  return uint64_t{proto} << 48 | uint64_t{port} << 32 | addr;
}

std::string endpoint(uint32_t addr_be, uint16_t port_be) {
  return Ipv4Addr{ntohl(addr_be)}.str() + ":" + std::to_string(ntohs(port_be));
}

// A NAT-log deletion event (addresses and ports in network order).
mapgw_natlog_event delete_event(uint8_t type, uint64_t now, uint8_t proto, uint32_t in_addr,
                                uint16_t in_port, uint16_t ext_port, uint32_t rem_addr,
                                uint16_t rem_port) {
  mapgw_natlog_event ev{};
  ev.ts_ns = now;
  ev.type = type;
  ev.proto = proto;
  ev.in_addr = in_addr;
  ev.in_port = in_port;
  ev.ext_port = ext_port;
  ev.rem_addr = rem_addr;
  ev.rem_port = rem_port;
  return ev;
}

}  // namespace

const char* proto_name(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    default: return "?";
  }
}

const char* tcp_state_name(uint8_t s) {
  switch (s) {
    case MAPGW_TCP_SYN_OUT: return "syn-out";
    case MAPGW_TCP_SYN_IN: return "syn-in";
    case MAPGW_TCP_ESTABLISHED: return "established";
    case MAPGW_TCP_FIN_OUT: return "fin-out";
    case MAPGW_TCP_FIN_IN: return "fin-in";
    case MAPGW_TCP_CLOSING: return "closing";
    default: return "-";
  }
}

namespace {

// Adds @per_key's counts to the count map @fd (-1: none), whose key @to_key
// makes from ours.
template <typename K, typename ToKey>
Status add_counts(int fd, const std::unordered_map<K, uint64_t>& per_key, ToKey to_key, const char* name) {
  if (fd < 0) return Status::Ok();
  for (const auto& [k, n] : per_key) {
    const auto key = to_key(k);
    mapgw_nat_host_count c{};
    bpf_map_lookup_elem(fd, &key, &c);
    c.count += n;
    if (bpf_map_update_elem(fd, &key, &c, BPF_ANY) != 0) return make_error(std::string("updating ") + name, errno);
  }
  return Status::Ok();
}

// Sessions removed per LAN host.
Status add_per_host(int fd, const std::unordered_map<uint32_t, uint64_t>& per_host, const char* name) {
  return add_counts(fd, per_host, [](uint32_t host) { return host; }, name);
}

// Bindings removed per LAN host and protocol (host | proto << 32).
uint64_t host_proto(uint32_t host, uint8_t proto) { return host | uint64_t{proto} << 32; }

Status add_per_host_proto(int fd, const std::unordered_map<uint64_t, uint64_t>& per, const char* name) {
  return add_counts(fd, per, [](uint64_t hp) {
    mapgw_nat_host_proto k{};
    k.host = static_cast<uint32_t>(hp);
    k.proto = static_cast<uint8_t>(hp >> 32);
    return k;
  }, name);
}

}  // namespace

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the clock of bpf_ktime_get_ns()
  return uint64_t(ts.tv_sec) * kNs + uint64_t(ts.tv_nsec);
}

Result<SweepResult> sweep_nat(const NatMaps& m, const NatTimeouts& t, uint64_t now,
                              const std::function<void(const mapgw_natlog_event&)>& on_delete) {
  SweepResult res;
  std::vector<mapgw_nat_sess_key> dead_sessions;
  std::vector<mapgw_nat_rsess_key> dead_rsessions;
  std::unordered_map<uint32_t, uint64_t> deleted_per_host;
  std::unordered_map<uint64_t, uint64_t> unbound_per_host;
  auto in_use = std::make_unique<PortBits>();  // external ports of live sessions

  // ADF markers first: each one that a live session's remote address then
  // vouches for is taken off the list, the rest go. (Marker-first keeps
  // the work per session to one lookup in a set of markers, not an insert
  // into a set of every remote.)
  std::unordered_map<uint64_t, mapgw_nat_rsess_key> markers;
  if (m.adf_markers) {
    auto st = for_each_entry<mapgw_nat_rsess_key, mapgw_nat_rsess>(
        m.rsessions, "mapgw_nat_rsessions", [&](const auto& k, const auto&) {
          if (k.flags & MAPGW_RSESS_F_ADDR_ONLY) {
            markers.emplace(endpoint_key(k.proto, k.ext_port, k.rem_addr), k);
          }
        });
    if (!st) return st.error();
  }

  auto st = for_each_entry<mapgw_nat_sess_key, mapgw_nat_sess>(
      m.sessions, "mapgw_nat_sessions", [&](const auto& k, const auto& v) {
        ++res.sessions_seen;
        if (idle_ns(now, v.last_seen_ns) > timeout_ns(t, k.proto, v.tcp_state)) {
          dead_sessions.push_back(k);
          mapgw_nat_rsess_key rk{};
          rk.rem_addr = k.rem_addr;
          rk.ext_port = v.ext_port;
          rk.rem_port = k.rem_port;
          rk.proto = k.proto;
          dead_rsessions.push_back(rk);
          ++deleted_per_host[k.in_addr];
          if (on_delete) {
            on_delete(delete_event(MAPGW_NATLOG_SESSION_DELETE, now, k.proto, k.in_addr, k.in_port,
                                   v.ext_port, k.rem_addr, k.rem_port));
          }
        } else {
          in_use->set(k.proto, v.ext_port);
          if (!markers.empty()) markers.erase(endpoint_key(k.proto, v.ext_port, k.rem_addr));
        }
      });
  if (!st) return st.error();
  // The outside half first: once it is gone no packet can revive the session.
  if (auto s = delete_keys(m.rsessions, dead_rsessions, "mapgw_nat_rsessions"); !s) return s.error();
  if (auto s = delete_keys(m.sessions, dead_sessions, "mapgw_nat_sessions"); !s) return s.error();
  res.sessions_expired = dead_sessions.size();

  // ADF markers whose remote address has no session left.
  std::vector<mapgw_nat_rsess_key> dead_markers;
  dead_markers.reserve(markers.size());
  for (const auto& [remote, k] : markers) dead_markers.push_back(k);
  if (auto s = delete_keys(m.rsessions, dead_markers, "mapgw_nat_rsessions"); !s) return s.error();
  res.markers_removed = dead_markers.size();

  // Bindings whose port no live session uses, idle for their protocol's time;
  // the ports the others hold (read once: the table is sized for a binding
  // per session, and a pass costs its empty buckets too).
  std::vector<mapgw_nat_bind_key> dead_binds;
  std::vector<mapgw_nat_port_key> dead_ports;
  auto bound = std::make_unique<PortBits>();
  st = for_each_entry<mapgw_nat_bind_key, mapgw_nat_bind>(
      m.binds, "mapgw_nat_binds", [&](const auto& k, const auto& v) {
        const bool dies = !(v.flags & MAPGW_NAT_F_STATIC) && !in_use->test(k.proto, v.ext_port) &&
                          idle_ns(now, v.last_seen_ns) > timeout_ns(t, k.proto, MAPGW_TCP_NONE);
        if (!dies) {
          bound->set(k.proto, v.ext_port);
          return;
        }
        dead_binds.push_back(k);
        ++unbound_per_host[host_proto(k.addr, k.proto)];
        if (on_delete) {
          on_delete(delete_event(MAPGW_NATLOG_BINDING_DELETE, now, k.proto, k.addr, k.port,
                                 v.ext_port, 0, 0));
        }
      });
  if (!st) return st.error();
  // Port owners: those of dead bindings, and orphans (a claim whose binding
  // lost a race) that are idle and unused.
  st = for_each_entry<mapgw_nat_port_key, mapgw_nat_port>(
      m.ports, "mapgw_nat_ports", [&](const auto& k, const auto& v) {
        if ((v.flags & MAPGW_NAT_F_STATIC) || bound->test(k.proto, k.ext_port) ||
            in_use->test(k.proto, k.ext_port))
          return;
        if (idle_ns(now, v.last_seen_ns) <= timeout_ns(t, k.proto, MAPGW_TCP_NONE)) return;
        dead_ports.push_back(k);
      });
  if (!st) return st.error();
  if (auto s = delete_keys(m.binds, dead_binds, "mapgw_nat_binds"); !s) return s.error();
  if (auto s = delete_keys(m.ports, dead_ports, "mapgw_nat_ports"); !s) return s.error();
  res.bindings_expired = dead_binds.size();

  // Per-host counts: the sweeper is the only writer of "deleted" and "unbound".
  if (auto s = add_per_host(m.host_deleted, deleted_per_host, "mapgw_nat_host_deleted"); !s) return s.error();
  if (auto s = add_per_host_proto(m.host_unbound, unbound_per_host, "mapgw_nat_host_unbound"); !s) {
    return s.error();
  }
  return res;
}

Result<uint64_t> remove_orphan_reverse_entries(const NatMaps& m) {
  std::vector<mapgw_nat_rsess_key> orphans;
  auto st = for_each_entry<mapgw_nat_rsess_key, mapgw_nat_rsess>(
      m.rsessions, "mapgw_nat_rsessions", [&](const auto& k, const auto& v) {
        if (k.flags & MAPGW_RSESS_F_ADDR_ONLY) return;  // ADF markers: the sweeper's
        mapgw_nat_sess_key sk{};
        sk.in_addr = v.in_addr;
        sk.rem_addr = k.rem_addr;
        sk.in_port = v.in_port;
        sk.rem_port = k.rem_port;
        sk.proto = k.proto;
        mapgw_nat_sess s{};
        if (bpf_map_lookup_elem(m.sessions, &sk, &s) != 0 || s.ext_port != k.ext_port) orphans.push_back(k);
      });
  if (!st) return st.error();
  if (auto s = delete_keys(m.rsessions, orphans, "mapgw_nat_rsessions"); !s) return s.error();
  return static_cast<uint64_t>(orphans.size());
}

Result<uint64_t> flush_nat(const NatMaps& m) {
  std::vector<mapgw_nat_sess_key> sessions;
  std::vector<mapgw_nat_rsess_key> rsessions;
  std::vector<mapgw_nat_bind_key> binds;
  std::vector<mapgw_nat_port_key> ports;
  std::unordered_map<uint32_t, uint64_t> per_host;
  std::unordered_map<uint64_t, uint64_t> unbound_per_host;
  auto st = for_each_entry<mapgw_nat_rsess_key, mapgw_nat_rsess>(
      m.rsessions, "mapgw_nat_rsessions", [&](const auto& k, const auto&) { rsessions.push_back(k); });
  if (!st) return st.error();
  st = for_each_entry<mapgw_nat_sess_key, mapgw_nat_sess>(
      m.sessions, "mapgw_nat_sessions", [&](const auto& k, const auto&) {
        sessions.push_back(k);
        ++per_host[k.in_addr];
      });
  if (!st) return st.error();
  st = for_each_entry<mapgw_nat_bind_key, mapgw_nat_bind>(
      m.binds, "mapgw_nat_binds", [&](const auto& k, const auto& v) {
        if (v.flags & MAPGW_NAT_F_STATIC) return;
        binds.push_back(k);
        ++unbound_per_host[host_proto(k.addr, k.proto)];
      });
  if (!st) return st.error();
  st = for_each_entry<mapgw_nat_port_key, mapgw_nat_port>(
      m.ports, "mapgw_nat_ports", [&](const auto& k, const auto& v) {
        if (!(v.flags & MAPGW_NAT_F_STATIC)) ports.push_back(k);
      });
  if (!st) return st.error();
  if (auto s = delete_keys(m.rsessions, rsessions, "mapgw_nat_rsessions"); !s) return s.error();
  if (auto s = delete_keys(m.sessions, sessions, "mapgw_nat_sessions"); !s) return s.error();
  if (auto s = delete_keys(m.binds, binds, "mapgw_nat_binds"); !s) return s.error();
  if (auto s = delete_keys(m.ports, ports, "mapgw_nat_ports"); !s) return s.error();
  if (auto s = add_per_host(m.host_deleted, per_host, "mapgw_nat_host_deleted"); !s) return s.error();
  if (auto s = add_per_host_proto(m.host_unbound, unbound_per_host, "mapgw_nat_host_unbound"); !s) {
    return s.error();
  }
  if (m.route_ctl >= 0) {
    if (auto s = route_cache_invalidate(m.route_ctl); !s) return s.error();
  }
  return static_cast<uint64_t>(sessions.size());
}

Result<std::vector<NatSessionView>> list_sessions(const NatMaps& m, uint64_t now,
                                                  std::optional<uint32_t> host,
                                                  std::optional<uint8_t> proto) {
  std::vector<NatSessionView> out;
  auto st = for_each_entry<mapgw_nat_sess_key, mapgw_nat_sess>(
      m.sessions, "mapgw_nat_sessions", [&](const auto& k, const auto& v) {
        if (host && ntohl(k.in_addr) != *host) return;
        if (proto && k.proto != *proto) return;
        out.push_back({k.proto, endpoint(k.in_addr, k.in_port), ntohs(v.ext_port),
                       endpoint(k.rem_addr, k.rem_port),
                       k.proto == IPPROTO_TCP ? tcp_state_name(v.tcp_state) : "-",
                       idle_ns(now, v.created_ns) / kNs, idle_ns(now, v.last_seen_ns) / kNs});
      });
  if (!st) return st.error();
  return out;
}

Result<NatSessionCounts> count_sessions(const NatMaps& m) {
  NatSessionCounts out;
  auto st = for_each_entry<mapgw_nat_sess_key, mapgw_nat_sess>(
      m.sessions, "mapgw_nat_sessions", [&](const auto& k, const auto& v) {
        ++out[{k.proto, k.proto == IPPROTO_TCP ? v.tcp_state : uint8_t{MAPGW_TCP_NONE}}];
      });
  if (!st) return st.error();
  return out;
}

Result<std::vector<NatPortView>> list_ports_in_use(const NatMaps& m) {
  std::vector<NatPortView> out;
  auto st = for_each_entry<mapgw_nat_port_key, mapgw_nat_port>(
      m.ports, "mapgw_nat_ports", [&](const auto& k, const auto& v) {
        out.push_back({k.proto, ntohs(k.ext_port), endpoint(v.in_addr, v.in_port),
                       (v.flags & MAPGW_NAT_F_STATIC) != 0});
      });
  if (!st) return st.error();
  return out;
}

}  // namespace mapgw
