// What the CE agent's NAT sweeper costs: the time of one periodic sweep
// (sweep_nat) over tables holding N sessions, none of them due, the steady
// state of a busy CE. The sweeper runs once a second on the machine that
// forwards, so a sweep of S seconds takes S of every second of one CPU
// from packet processing. Median of 5 sweeps per size. Not a test: it
// prints numbers, its last line JSON. Run as root:
//   build/bench/sweep_cost [sessions...]   (default 1000 100000 1000000)
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/ce/nat_table.h"
#include "loader/ce_dataplane.h"
#include "loader/libbpf_log.h"

using namespace mapgw;

namespace {

constexpr uint32_t kPorts = 240;  // a v6plus port set
constexpr uint32_t kHosts = 250;  // inside hosts, 192.168.0.x

template <typename K, typename V>
void put_all(int fd, std::vector<K>& keys, std::vector<V>& vals, const char* what) {
  uint32_t n = static_cast<uint32_t>(keys.size());
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (n && bpf_map_update_batch(fd, keys.data(), vals.data(), &n, &opts) != 0) {
    std::perror(what);
    std::exit(1);
  }
}

// @n live UDP sessions from 250 hosts' ports 40000-40239 (6000 inside
// endpoints, EIM bindings sharing the 240 external ports) to 8.x.y.z:53.
void fill(const NatMaps& m, uint32_t n, uint64_t now) {
  std::vector<mapgw_nat_sess_key> sk;
  std::vector<mapgw_nat_sess> sv;
  std::vector<mapgw_nat_rsess_key> rk;
  std::vector<mapgw_nat_rsess> rv;
  std::vector<mapgw_nat_bind_key> bk;
  std::vector<mapgw_nat_bind> bv;
  for (uint32_t i = 0; i < n; ++i) {
    const uint16_t ext = htons(static_cast<uint16_t>(0x1ef0 + (i % kPorts) * 16 % 4096 + 4096));
    mapgw_nat_sess_key k{};
    k.in_addr = htonl((192u << 24) | (168u << 16) | (i % kHosts + 1));
    k.in_port = htons(static_cast<uint16_t>(40000 + i % kPorts));
    k.rem_addr = htonl((8u << 24) | (i / kPorts + 1));
    k.rem_port = htons(53);
    k.proto = IPPROTO_UDP;
    mapgw_nat_sess v{};
    v.last_seen_ns = v.created_ns = now;
    v.ext_port = ext;
    mapgw_nat_rsess_key r{};
    r.rem_addr = k.rem_addr;
    r.ext_port = ext;
    r.rem_port = k.rem_port;
    r.proto = k.proto;
    mapgw_nat_rsess w{};
    w.in_addr = k.in_addr;
    w.in_port = k.in_port;
    if (i < kHosts * kPorts / 10) {  // each inside endpoint's binding, once
      mapgw_nat_bind_key b{};
      b.addr = k.in_addr;
      b.port = k.in_port;
      b.proto = k.proto;
      mapgw_nat_bind c{};
      c.last_seen_ns = now;
      c.ext_port = ext;
      bk.push_back(b);
      bv.push_back(c);
    }
    sk.push_back(k);
    sv.push_back(v);
    rk.push_back(r);
    rv.push_back(w);
  }
  put_all(m.sessions, sk, sv, "filling mapgw_nat_sessions");
  put_all(m.rsessions, rk, rv, "filling mapgw_nat_rsessions");
  put_all(m.binds, bk, bv, "filling mapgw_nat_binds");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(static_cast<uint32_t>(std::atoi(argv[i])));
  if (sizes.empty()) sizes = {1000, 100000, 1000000};
  route_libbpf_logs(false);
  std::string json = "{";
  for (uint32_t n : sizes) {
    auto dp = CeDataplane::load(std::max(n + n / 4, 1024u), kPorts, 5'000'000'000ULL);
    if (!dp) {
      std::fprintf(stderr, "%s\n", dp.error().describe().c_str());
      return 1;
    }
    const NatMaps m = dp->nat_maps();
    const uint64_t now = monotonic_ns();
    fill(m, n, now);
    std::vector<double> ms;
    for (int round = 0; round < 5; ++round) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = sweep_nat(m, NatTimeouts{}, now + 10'000'000'000ULL);
      const auto t1 = std::chrono::steady_clock::now();
      if (!r) {
        std::fprintf(stderr, "sweep failed: %s\n", r.error().describe().c_str());
        return 1;
      }
      if (r->sessions_seen != n || r->sessions_expired != 0) {
        std::fprintf(stderr, "sweep invalid: %llu sessions seen of %u, %llu expired\n",
                     (unsigned long long)r->sessions_seen, n,
                     (unsigned long long)r->sessions_expired);
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    // And the sweep that finds them all due must remove them all.
    auto gone = sweep_nat(m, NatTimeouts{}, now + 400'000'000'000ULL);
    if (!gone || gone->sessions_expired != n) {
      std::fprintf(stderr, "expiry sweep removed %llu of %u\n",
                   gone ? (unsigned long long)gone->sessions_expired : 0ULL, n);
      return 1;
    }
    const double med = median(ms);
    std::printf(
        "%8u sessions: %8.2f ms per sweep (%.0f ns per session), %.1f %% of a CPU at one sweep a "
        "second\n",
        n, med, med * 1e6 / n, med / 10);
    json += (json.size() > 1 ? ", " : "") + std::string("\"sweep_ms_") + std::to_string(n) +
            "\": " + std::to_string(med);
  }
  std::printf("%s}\n", json.c_str());
  return 0;
}
