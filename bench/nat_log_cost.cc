// What the NAT log costs the data plane: the CE program's run time for a
// packet that creates a new binding and session, with the NAT log off and
// with bindings + sessions logged (the ring buffer drained meanwhile).
// Kernel-measured run time (BPF_PROG_TEST_RUN duration), median of rounds
// that alternate off/on, each round on a fresh data plane. Not a test: it
// prints numbers. Run as root: build/bench/nat_log_cost [flows_per_round]
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/net/ip.h"
#include "loader/ce_dataplane.h"
#include "loader/counters.h"
#include "loader/libbpf_log.h"
#include "loader/test_run.h"

using namespace mapgw;

namespace {

void sh(const std::string& c) {
  if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) {
    std::fprintf(stderr, "failed: %s\n", c.c_str());
    std::exit(1);
  }
}

std::vector<uint8_t> udp(uint32_t src, uint16_t sport) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0x0a, 0x01, 0x02, 0, 0, 0, 0x0a, 0x0a, 0x08, 0x00,
                            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0};
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<uint8_t>(src >> (24 - 8 * i)));
  for (uint8_t b : {8, 8, 8, 8}) f.push_back(b);
  for (uint8_t b : {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport), uint8_t{0}, uint8_t{53},
                    uint8_t{0}, uint8_t{8}, uint8_t{0}, uint8_t{0}}) {
    f.push_back(b);
  }
  return f;
}

int drain(void*, void*, size_t) { return 0; }

// Mean program run time (ns) of @n new-flow packets.
double round_ns(bool log, unsigned n, unsigned lan, unsigned slow) {
  auto dp = CeDataplane::load(65536, 240, 5'000'000'000ULL);
  if (!dp) {
    std::fprintf(stderr, "%s\n", dp.error().describe().c_str());
    std::exit(1);
  }
  mapgw_ce_config c{};
  c.ce_addr = Ipv6Addr::parse("240b:10:abcd:ef00:6a:48ab:cd00:ef00")->value;
  c.br_addr = Ipv6Addr::parse("2001:db8:ffff::1")->value;
  c.ipv4 = htonl((106u << 24) | (72u << 16) | (171u << 8) | 205u);
  c.psid = 0xef;
  c.psid_len = 8;
  c.psid_offset = 4;
  c.tunnel_mtu = 1460;
  c.lan_ifindex = lan;
  c.slow_ifindex = slow;
  c.natlog_rate = 10'000'000;
  if (log) c.flags = MAPGW_CE_F_NATLOG_BINDINGS | MAPGW_CE_F_NATLOG_SESSIONS;
  if (!dp->set_config(c)) std::exit(1);
  ring_buffer* rb = ring_buffer__new(dp->nat_log_fd(), drain, nullptr, nullptr);
  uint64_t total = 0;
  for (unsigned i = 0; i < n; ++i) {
    // Distinct inside endpoints to distinct remotes: every packet is new.
    auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), udp((10u << 24) | i, 40000), lan);
    if (!r) std::exit(1);
    total += r->duration_ns;
    if (i % 256 == 0) ring_buffer__consume(rb);
  }
  ring_buffer__free(rb);
  // The numbers only mean something if the work happened.
  auto snap = read_counters(dp->counters_fd());
  const uint64_t sessions = (*snap)[MAPGW_CNT_NAT_SESSION_CREATED].packets;
  const uint64_t logged = (*snap)[MAPGW_CNT_NATLOG_WRITTEN].packets;
  if (sessions != n || logged != (log ? 2 * n : 0)) {
    std::fprintf(stderr, "round invalid: %llu sessions, %llu log events for %u flows\n",
                 (unsigned long long)sessions, (unsigned long long)logged, n);
    std::exit(1);
  }
  return double(total) / n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned n = argc > 1 ? std::atoi(argv[1]) : 200;  // < 240: no port sharing
  route_libbpf_logs(false);
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare (needs root)");
    return 1;
  }
  sh("ip link set lo up");
  sh("ip link add l0 type veth peer name l0p && ip link add s0 type veth peer name s0p && "
     "ip link add w0 type veth peer name w0p");
  sh("ip link set s0 arp off && for i in l0 l0p s0 s0p w0 w0p; do ip link set $i up; done");
  sh("ip addr add 10.0.0.1/8 dev l0 && ip route add default dev s0");
  sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1");
  const unsigned lan = if_nametoindex("l0"), slow = if_nametoindex("s0");
  std::vector<double> off, on;
  for (int round = 0; round < 7; ++round) {
    off.push_back(round_ns(false, n, lan, slow));
    on.push_back(round_ns(true, n, lan, slow));
  }
  const double a = median(off), b = median(on);
  std::printf("new binding+session, CE LAN program, %u flows x 7 rounds (median of per-round means)\n", n);
  std::printf("  NAT log off: %.0f ns/packet\n  NAT log on (bindings + sessions): %.0f ns/packet\n", a, b);
  std::printf("  cost of the NAT log: %+.0f ns/packet (%.2fx)\n", b - a, b / a);
  std::printf("{\"natlog_off_ns\": %.0f, \"natlog_on_ns\": %.0f, \"ratio\": %.3f}\n", a, b, b / a);
  return 0;
}
