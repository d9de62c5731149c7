// The CE programs through BPF_PROG_TEST_RUN in a private netns: the scapy
// fixture table (gen_ce_fixtures.py), then properties no fixed table can
// show: every external port lies in the set over thousands of flows, two
// threads never get the same port, a full set falls back to 5-tuple reuse
// and then to a counted refusal, and the sweeper expires by injected time.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "agent/br/br_rule.h"
#include "agent/ce/nat_log.h"
#include "agent/ce/nat_table.h"
#include "agent/map/port_set.h"
#include "bpf_test_env.h"
#include "map_reset.h"
#include "ce_fixtures.h"
#include "ce_hostile.h"
#include "loader/ce_dataplane.h"
#include "loader/kernel_features.h"
#include "loader/counters.h"
#include "loader/route_ctl.h"
#include "loader/test_run.h"
#include "netns_sandbox.h"

namespace ce_fixtures {
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
}  // namespace ce_fixtures

namespace mapgw {
namespace {

constexpr const char* kCe6 = "240b:10:abcd:ef00:6a:48ab:cd00:ef00";
constexpr const char* kBr6 = "2001:db8:ffff::1";
constexpr uint32_t kPub = (106u << 24) | (72u << 16) | (171u << 8) | 205u;
const PortSet kSet(4, 8, 0xef);

struct Topology {
  unsigned lan = 0, wan = 0, slow = 0;
};

void build_topology(Topology& t) {
  using testing::run;
  static Topology built;
  if (built.lan) {
    t = built;
    return;
  }
  ASSERT_NO_FATAL_FAILURE(testing::enter_private_netns());
  run("ip link add l0 type veth peer name l0p");
  run("ip link add w0 type veth peer name w0p");
  run("ip link add s0 type veth peer name s0p");
  run("ip link set l0 address 02:00:00:00:0a:01");
  run("ip link set w0 address 02:00:00:00:0b:01");
  run("ip link set s0 mtu 1460 arp off");
  for (const char* i : {"l0", "l0p", "w0", "w0p", "s0", "s0p"}) run(std::string("ip link set up dev ") + i);
  run("ip addr add 192.168.1.1/24 dev l0");
  run("ip neigh add 192.168.1.10 lladdr 02:00:00:00:0a:0a dev l0 nud permanent");
  run("ip neigh add 192.168.1.11 lladdr 02:00:00:00:0a:0b dev l0 nud permanent");
  run("ip -6 addr add 2001:db8:aaaa::2/64 dev w0 nodad");
  run(std::string("ip -6 addr add ") + kCe6 + "/128 dev w0 nodad");
  run("ip -6 neigh add 2001:db8:aaaa::1 lladdr 02:00:00:00:0b:02 dev w0 nud permanent");
  run("ip -6 route add default via 2001:db8:aaaa::1 dev w0");
  run("ip route add default dev s0");
  testing::write_sysctl("net/ipv4/ip_forward", "1");
  testing::write_sysctl("net/ipv6/conf/all/forwarding", "1");
  t.lan = if_nametoindex("l0");
  t.wan = if_nametoindex("w0");
  t.slow = if_nametoindex("s0");
  ASSERT_TRUE(t.lan && t.wan && t.slow);
  built = t;
}

mapgw_ce_config ce_config(const Topology& t, uint8_t filtering) {
  mapgw_ce_config c{};
  c.ce_addr = Ipv6Addr::parse(kCe6)->value;
  c.br_addr = Ipv6Addr::parse(kBr6)->value;
  c.ipv4 = htonl(kPub);
  c.icmp_src = htonl(Ipv4Addr::parse("192.168.1.1")->value);
  c.psid = 0xef;
  c.psid_len = 8;
  c.psid_offset = 4;
  c.filtering = filtering;
  c.tunnel_mtu = 1460;
  c.lan_ifindex = t.lan;
  c.slow_ifindex = t.slow;
  return c;
}

// The test configuration written into a loaded (or reset) data plane.
void configure_ce(const Topology& topo, CeDataplane* out, uint8_t filtering) {
  ASSERT_TRUE(out->set_config(ce_config(topo, filtering)).ok());
  auto spec = RuleSpec::parse("ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4,fmr");
  spec->legacy_iid = true;
  std::vector<mapgw_br_rule> fmrs{make_br_rule(*MapRule::create(*spec), *Ipv6Addr::parse(kCe6))};
  ASSERT_TRUE(out->replace_fmrs(fmrs).ok());
  std::vector<uint32_t> ports{topo.lan, topo.wan};
  ASSERT_TRUE(out->replace_tx_ports(ports).ok());
  std::vector<StaticNapt> napt{{IPPROTO_TCP, 7935, Ipv4Addr::parse("192.168.1.10")->value, 80}};
  ASSERT_TRUE(out->replace_static_napt(napt).ok());
  mapgw_filter_rule smtp{};
  smtp.src = htonl(Ipv4Addr::parse("192.168.1.0")->value);
  smtp.src_mask = htonl(0xffffff00);
  smtp.dport_lo = smtp.dport_hi = 25;
  smtp.proto = IPPROTO_TCP;
  smtp.action = 1;
  std::vector<mapgw_filter_rule> filter{smtp};
  ASSERT_TRUE(out->replace_filter(filter).ok());
}

Result<CeDataplane> load_ce_unconfigured(uint8_t filtering, uint32_t flow_cache_sets) {
  return CeDataplane::load(16384, 240, 5'000'000'000ULL, "", filtering == MAPGW_FILTER_ADDRESS_DEPENDENT,
                           flow_cache_sets);
}

void load_ce(Topology& topo, std::optional<CeDataplane>& out, uint8_t filtering = 0,
             uint32_t flow_cache_sets = MAPGW_FLOW_CACHE_SETS) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  auto dp = load_ce_unconfigured(filtering, flow_cache_sets);
  ASSERT_TRUE(dp.ok()) << dp.error().describe();
  out.emplace(std::move(*dp));
  ASSERT_NO_FATAL_FAILURE(configure_ce(topo, &*out, filtering));
}

// A data plane loaded once per set of load parameters and handed to each
// test that asks in the state just after its load (map_reset.h), then
// configured: a table of fixtures costs one verifier run, not one each.
void shared_ce(Topology& topo, CeDataplane*& out, uint8_t filtering = 0,
               uint32_t flow_cache_sets = MAPGW_FLOW_CACHE_SETS) {
  struct Loaded {
    std::optional<CeDataplane> dp;
    testing::MapSnapshot fresh;
  };
  static std::map<std::tuple<uint8_t, uint32_t, bool>, Loaded> loaded;
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  auto& l = loaded[{filtering, flow_cache_sets, kernel_pretends_old()}];
  if (!l.dp) {
    auto dp = load_ce_unconfigured(filtering, flow_cache_sets);
    ASSERT_TRUE(dp.ok()) << dp.error().describe();
    l.dp.emplace(std::move(*dp));
    ASSERT_NO_FATAL_FAILURE(l.fresh.take({l.dp->prog_fd(CeProgram::kXdpLan), l.dp->prog_fd(CeProgram::kXdpWan),
                                          l.dp->prog_fd(CeProgram::kTcWan), l.dp->prog_fd(CeProgram::kTcEncap)}));
  } else {
    ASSERT_NO_FATAL_FAILURE(l.fresh.restore());
  }
  ASSERT_NO_FATAL_FAILURE(configure_ce(topo, &*l.dp, filtering));
  out = &*l.dp;
}

uint32_t counter_index(const std::string& label) {
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    if (counter_label(i) && label == counter_label(i)) return i;
  }
  ADD_FAILURE() << "no counter named " << label;
  return 0;
}

class CeFixture : public ::testing::TestWithParam<ce_fixtures::Case> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(shared_ce(topo_, dp_, GetParam().filtering)); }
  void run_case();
  Topology topo_;
  CeDataplane* dp_ = nullptr;
};

TEST_P(CeFixture, VerdictOutputAndCounters) { run_case(); }

// The fixture's frame through its program: verdict, output frame, and every
// counter's change.
void CeFixture::run_case() {
  const auto& c = GetParam();
  const std::string entry = c.program;
  const bool lan = entry == "lan", tc = entry == "tc_wan";
  const int fd = dp_->prog_fd(lan ? CeProgram::kXdpLan : tc ? CeProgram::kTcWan : CeProgram::kXdpWan);
  for (const auto& p : c.prelude) {
    const bool p_lan = p.size() > 13 && p[12] == 0x08 && p[13] == 0x00;
    auto r = test_run_xdp(dp_->prog_fd(p_lan ? CeProgram::kXdpLan : CeProgram::kXdpWan), p,
                          p_lan ? topo_.lan : topo_.wan);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT)) << "prelude packet not forwarded";
  }
  auto before = read_counters(dp_->counters_fd());
  ASSERT_TRUE(before.ok());
  auto r = tc ? test_run(fd, c.input) : test_run_xdp(fd, c.input, lan ? topo_.lan : topo_.wan);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->retval, c.verdict);
  if (c.has_output) {
    EXPECT_EQ(r->data_out, c.output) << "output frame differs from scapy's";
  }
  auto after = read_counters(dp_->counters_fd());
  std::map<uint32_t, uint64_t> want;
  for (const auto& [name, n] : c.counters) want[counter_index(name)] = n;
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    if (i == MAPGW_CNT_FLOW_CACHE_FILL && !want.count(i)) continue;  // a cache statistic
    const uint64_t delta = (*after)[i].packets - (*before)[i].packets;
    EXPECT_EQ(delta, want.count(i) ? want[i] : 0u)
        << "counter " << (counter_label(i) ? counter_label(i) : "?");
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CeFixture, ::testing::ValuesIn(ce_fixtures::cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// The hostile corpus (gen_hostile_corpus.py): every entry, XDP and TC.
INSTANTIATE_TEST_SUITE_P(Hostile, CeFixture, ::testing::ValuesIn(ce_fixtures::hostile_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// The same fixtures with the data plane loaded as for a kernel without
// BPF_FIB_LOOKUP_SKIP_NEIGH (upstream 6.1 before Debian's backport): the
// outbound path's "routed into MAP-E?" lookup then takes the fallback.
class CeFixtureOldKernel : public CeFixture {
 protected:
  void SetUp() override {
    pretend_old_kernel(true);
    CeFixture::SetUp();
  }
  void TearDown() override { pretend_old_kernel(false); }
};

TEST_P(CeFixtureOldKernel, VerdictOutputAndCounters) { run_case(); }

std::vector<ce_fixtures::Case> outbound_cases() {
  std::vector<ce_fixtures::Case> out;
  for (const auto& c : ce_fixtures::cases()) {
    for (const char* n : {"udp_out_keeps_port_in_set", "tcp_syn_out_mss_clamped", "lan_to_lan_not_mapped",
                          "fmr_goes_direct_to_peer_ce"}) {
      if (std::string(c.name) == n) out.push_back(c);
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CeFixtureOldKernel, ::testing::ValuesIn(outbound_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- packets built here (checked with a from-scratch checksum below) --------

uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

uint32_t sum16(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1];
  if (n & 1) s += p[n - 1] << 8;
  return s;
}

// Ethernet (LAN host -> CE) + IPv4 from @src to @dst around @l4 (protocol
// @proto), the IPv4 checksum and the L4 checksum at @csum_at in @l4 filled.
std::vector<uint8_t> lan_ipv4(uint32_t src, uint32_t dst, uint8_t proto, std::vector<uint8_t> l4,
                              size_t csum_at) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0x0a, 0x01, 0x02, 0, 0, 0, 0x0a, 0x0a, 0x08, 0x00};
  const uint16_t total = static_cast<uint16_t>(20 + l4.size());
  uint8_t ip[20] = {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1, 0, 0,
                    64, proto, 0, 0};
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
  }
  uint16_t c = fold(sum16(ip, 20));
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  c = fold(sum16(ip + 12, 8) + proto + static_cast<uint32_t>(l4.size()) + sum16(l4.data(), l4.size()));
  l4[csum_at] = c >> 8;
  l4[csum_at + 1] = c & 0xff;
  f.insert(f.end(), ip, ip + 20);
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

// Ethernet + IPv4 + UDP from @src:@sport to @dst:@dport, checksums filled.
std::vector<uint8_t> lan_udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
  return lan_ipv4(src, dst, 17,
                  {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                   static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 12, 0, 0, 'p', 'r',
                   'o', 'p'},
                  6);
}

struct Translated {
  uint16_t sport;
  bool checksums_ok;
};

// The inner IPv4/UDP of a tunnel frame: its source port, and whether both
// checksums verify from scratch.
Translated inner_of(const std::vector<uint8_t>& f) {
  const uint8_t* ip = f.data() + 14 + 40;
  const uint8_t* udp = ip + 20;
  bool ip_ok = fold(sum16(ip, 20)) == 0;
  uint32_t s = sum16(ip + 12, 8) + 17 + ((udp[4] << 8) | udp[5]) + sum16(udp, (udp[4] << 8) | udp[5]);
  return {static_cast<uint16_t>((udp[0] << 8) | udp[1]), ip_ok && fold(s) == 0};
}

uint32_t host(unsigned i) { return (10u << 24) | (1u << 16) | (i & 0xffff); }

TEST(CeNat, ThousandsOfFlowsAllUseTheSetAndUniqueFiveTuples) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  testing::run("ip route replace 10.1.0.0/16 dev l0");
  std::set<std::pair<uint16_t, uint32_t>> ext_remote;  // (ext port, remote) must be unique
  unsigned reused = 0;
  for (unsigned i = 0; i < 3000; ++i) {
    const uint32_t remote = 0x08080800u + (i % 8);   // 8 servers
    auto f = lan_udp(host(i % 600), static_cast<uint16_t>(20000 + i / 600), remote, 53);
    auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), f, topo.lan);
    ASSERT_TRUE(r.ok());
    if (r->retval == static_cast<uint32_t>(XDP_DROP)) continue;  // refused: counted below
    ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT)) << "flow " << i;
    auto t = inner_of(r->data_out);
    ASSERT_TRUE(kSet.contains(t.sport)) << "flow " << i << " got port " << t.sport;
    ASSERT_TRUE(t.checksums_ok) << "flow " << i;
    ASSERT_TRUE(ext_remote.insert({t.sport, remote}).second) << "5-tuple reused, flow " << i;
  }
  auto c = read_counters(dp->counters_fd());
  reused = (*c)[MAPGW_CNT_NAT_PORT_REUSED].packets;
  EXPECT_EQ((*c)[MAPGW_CNT_NAT_BINDING_CREATED].packets, 240u) << "the whole set gets bound";
  EXPECT_GT(reused, 0u) << "past 240 endpoints, ports must be shared by 5-tuple";
  EXPECT_EQ(ext_remote.size() + (*c)[MAPGW_CNT_DROP_NAT_EXHAUSTED].packets, 3000u);
}

TEST(CeNat, TwoThreadsNeverGetTheSamePort) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  std::vector<uint16_t> got[2];
  auto worker = [&](int id) {
    for (unsigned i = 0; i < 120; ++i) {
      auto f = lan_udp(host(id * 1000 + i), 30000, 0x08080808, 53);
      auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), f, topo.lan);
      if (r.ok() && r->retval == static_cast<uint32_t>(XDP_REDIRECT)) {
        got[id].push_back(inner_of(r->data_out).sport);
      }
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  std::set<uint16_t> all;
  for (auto& v : got) {
    for (uint16_t p : v) EXPECT_TRUE(all.insert(p).second) << "port " << p << " handed out twice";
  }
  EXPECT_EQ(all.size(), 240u) << "240 endpoints, one remote: every port exactly once";
}

TEST(CeNat, FullSetThenFiveTupleReuseThenCountedRefusal) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  const int fd = dp->prog_fd(CeProgram::kXdpLan);
  for (unsigned i = 0; i < 240; ++i) {
    auto r = test_run_xdp(fd, lan_udp(host(i), 40000, 0x08080808, 53), topo.lan);
    ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT)) << i;
  }
  // Endpoint 241 to another remote: shares a bound port (5-tuple unique).
  auto reuse = test_run_xdp(fd, lan_udp(host(240), 40000, 0x09090909, 53), topo.lan);
  ASSERT_EQ(reuse->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_TRUE(kSet.contains(inner_of(reuse->data_out).sport));
  // Endpoint 242 to the remote every port already talks to: refused.
  auto refused = test_run_xdp(fd, lan_udp(host(241), 40000, 0x08080808, 53), topo.lan);
  EXPECT_EQ(refused->retval, static_cast<uint32_t>(XDP_DROP));
  auto c = read_counters(dp->counters_fd());
  EXPECT_EQ((*c)[MAPGW_CNT_NAT_BINDING_CREATED].packets, 240u);
  EXPECT_EQ((*c)[MAPGW_CNT_NAT_PORT_REUSED].packets, 1u);
  EXPECT_EQ((*c)[MAPGW_CNT_DROP_NAT_EXHAUSTED].packets, 1u);
}

TEST(CeNat, ParityIsKeptWhileThePortsLast) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  // Inside ports outside the set, all even: the first 120 bindings (the
  // set's even ports) must be even too (RFC 4787 REQ-4).
  for (unsigned i = 0; i < 120; ++i) {
    auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), lan_udp(host(i), 40000, 0x08080808, 53),
                          topo.lan);
    ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT));
    EXPECT_EQ(inner_of(r->data_out).sport % 2, 0) << "binding " << i;
  }
}

TEST(CeNat, PerHostSessionLimit) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  auto cfg = ce_config(topo, 0);
  cfg.host_session_limit = 3;
  ASSERT_TRUE(dp->set_config(cfg).ok());
  const int fd = dp->prog_fd(CeProgram::kXdpLan);
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(test_run_xdp(fd, lan_udp(host(1), 40000 + i, 0x08080808, 53), topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  EXPECT_EQ(test_run_xdp(fd, lan_udp(host(1), 40003, 0x08080808, 53), topo.lan)->retval,
            static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(test_run_xdp(fd, lan_udp(host(2), 40000, 0x08080808, 53), topo.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT)) << "another host is not affected";
  // The existing sessions keep working.
  EXPECT_EQ(test_run_xdp(fd, lan_udp(host(1), 40000, 0x08080808, 53), topo.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  auto c = read_counters(dp->counters_fd());
  EXPECT_EQ((*c)[MAPGW_CNT_DROP_NAT_HOST_LIMIT].packets, 1u);
  // Expiry gives the host its budget back.
  ASSERT_TRUE(sweep_nat(dp->nat_maps(), NatTimeouts{}, monotonic_ns() + 400'000'000'000ULL).ok());
  EXPECT_EQ(test_run_xdp(fd, lan_udp(host(1), 40003, 0x08080808, 53), topo.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
}

std::vector<mapgw_natlog_event> drain_natlog(int fd) {
  std::vector<mapgw_natlog_event> out;
  auto cb = [](void* ctx, void* data, size_t) -> int {
    static_cast<std::vector<mapgw_natlog_event>*>(ctx)->push_back(*static_cast<mapgw_natlog_event*>(data));
    return 0;
  };
  ring_buffer* rb = ring_buffer__new(fd, cb, &out, nullptr);
  EXPECT_NE(rb, nullptr);
  ring_buffer__consume(rb);
  ring_buffer__free(rb);
  return out;
}

TEST(CeNatLog, CreationEventsCarryTheMapping) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  auto cfg = ce_config(topo, 0);
  cfg.flags = MAPGW_CE_F_NATLOG_BINDINGS | MAPGW_CE_F_NATLOG_SESSIONS;
  cfg.natlog_rate = 1000;
  ASSERT_TRUE(dp->set_config(cfg).ok());
  auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), lan_udp(host(7), 7920, 0x08080808, 53), topo.lan);
  ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT));
  auto ev = drain_natlog(dp->nat_log_fd());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, MAPGW_NATLOG_BINDING_CREATE);
  EXPECT_EQ(ev[1].type, MAPGW_NATLOG_SESSION_CREATE);
  for (const auto& e : ev) {
    EXPECT_EQ(ntohl(e.in_addr), host(7));
    EXPECT_EQ(ntohs(e.in_port), 7920);
    EXPECT_EQ(ntohs(e.ext_port), 7920);  // kept: in the set
    EXPECT_EQ(e.proto, IPPROTO_UDP);
  }
  EXPECT_EQ(ntohl(ev[1].rem_addr), 0x08080808u);
  EXPECT_EQ(ntohs(ev[1].rem_port), 53);
  const std::string line = NatLogWriter::format(ev[1], Ipv4Addr{kPub}, 0);
  EXPECT_NE(line.find("\"inside\":\"10.1.0.7:7920\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"outside\":\"106.72.171.205:7920\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"remote\":\"8.8.8.8:53\""), std::string::npos) << line;
  // Off: nothing logged.
  cfg.flags = 0;
  ASSERT_TRUE(dp->set_config(cfg).ok());
  ASSERT_TRUE(test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), lan_udp(host(8), 7921, 0x08080808, 53),
                           topo.lan).ok());
  EXPECT_TRUE(drain_natlog(dp->nat_log_fd()).empty());
}

TEST(CeNatLog, RateLimitedAndCountedNeverBlocking) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  auto cfg = ce_config(topo, 0);
  cfg.flags = MAPGW_CE_F_NATLOG_BINDINGS;
  cfg.natlog_rate = 5;  // per second, burst of one second
  ASSERT_TRUE(dp->set_config(cfg).ok());
  unsigned forwarded = 0;
  for (unsigned i = 0; i < 50; ++i) {
    auto r = test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), lan_udp(host(i), 40000, 0x08080808, 53), topo.lan);
    forwarded += r->retval == static_cast<uint32_t>(XDP_REDIRECT);
  }
  EXPECT_EQ(forwarded, 50u) << "logging must never cost a packet";
  auto c = read_counters(dp->counters_fd());
  const uint64_t logged = (*c)[MAPGW_CNT_NATLOG_WRITTEN].packets;
  const uint64_t limited = (*c)[MAPGW_CNT_NATLOG_RATE_LIMITED].packets;
  EXPECT_EQ(logged + limited, 50u);
  EXPECT_LE(logged, 10u) << "5/s with a one-second burst";
  EXPECT_EQ(drain_natlog(dp->nat_log_fd()).size(), logged);
}

TEST(CeNat, SweeperExpiresByInjectedTime) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  const int fd = dp->prog_fd(CeProgram::kXdpLan);
  for (unsigned i = 0; i < 10; ++i) {
    ASSERT_EQ(test_run_xdp(fd, lan_udp(host(i), 40000, 0x08080808, 53), topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  const NatMaps m = dp->nat_maps();
  const uint64_t now = monotonic_ns();
  NatTimeouts t;  // UDP 300 s
  std::vector<mapgw_natlog_event> deleted;
  auto record = [&](const mapgw_natlog_event& e) { deleted.push_back(e); };
  auto keep = sweep_nat(m, t, now + 299'000'000'000ULL, record);
  ASSERT_TRUE(keep.ok()) << keep.error().describe();
  EXPECT_EQ(keep->sessions_seen, 10u);
  EXPECT_EQ(keep->sessions_expired, 0u);
  EXPECT_TRUE(deleted.empty());
  auto gone = sweep_nat(m, t, now + 302'000'000'000ULL, record);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->sessions_expired, 10u);
  EXPECT_EQ(gone->bindings_expired, 10u);
  EXPECT_EQ(std::count_if(deleted.begin(), deleted.end(),
                          [](auto& e) { return e.type == MAPGW_NATLOG_SESSION_DELETE; }), 10);
  EXPECT_EQ(std::count_if(deleted.begin(), deleted.end(),
                          [](auto& e) { return e.type == MAPGW_NATLOG_BINDING_DELETE; }), 10);
  auto ports = list_ports_in_use(m);
  ASSERT_TRUE(ports.ok());
  ASSERT_EQ(ports->size(), 1u) << "only the static NAPT entry stays";
  EXPECT_TRUE((*ports)[0].is_static);
  auto left = list_sessions(m, now, std::nullopt, std::nullopt);
  EXPECT_TRUE(left->empty());
  // The freed ports are claimable again: the set is whole.
  for (unsigned i = 0; i < 240; ++i) {
    auto r = test_run_xdp(fd, lan_udp(host(100 + i), 40000, 0x08080808, 53), topo.lan);
    ASSERT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT)) << i;
  }
}

// Address-dependent filtering: a remote address's marker goes with the last
// session to it, not before.
TEST(CeNat, SweeperRemovesAdfMarkersWithTheLastSessionToTheirAddress) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp, MAPGW_FILTER_ADDRESS_DEPENDENT));
  const int fd = dp->prog_fd(CeProgram::kXdpLan);
  const uint32_t a = 0x08080808, b = 0x09090909;
  for (auto [remote, port] : {std::pair{a, 53}, {a, 123}, {b, 53}}) {
    ASSERT_EQ(test_run_xdp(fd, lan_udp(host(1), 40000, remote, port), topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  const NatMaps m = dp->nat_maps();
  ASSERT_TRUE(m.adf_markers);
  auto markers = [&] {
    std::set<uint32_t> out;
    mapgw_nat_rsess_key k{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(m.rsessions, prev, &next) == 0; prev = &k) {
      if (next.flags & MAPGW_RSESS_F_ADDR_ONLY) out.insert(ntohl(next.rem_addr));
      k = next;
    }
    return out;
  };
  ASSERT_EQ(markers(), (std::set<uint32_t>{a, b}));
  // The session to a:53 was seen 250 s later than the others.
  const uint64_t now = monotonic_ns();
  mapgw_nat_sess_key k{}, next{};
  for (void* prev = nullptr; bpf_map_get_next_key(m.sessions, prev, &next) == 0; prev = &k) {
    k = next;
    if (ntohl(k.rem_addr) != a || ntohs(k.rem_port) != 53) continue;
    mapgw_nat_sess v{};
    ASSERT_EQ(bpf_map_lookup_elem(m.sessions, &k, &v), 0);
    v.last_seen_ns = now + 250'000'000'000ULL;
    ASSERT_EQ(bpf_map_update_elem(m.sessions, &k, &v, BPF_EXIST), 0);
  }
  auto first = sweep_nat(m, NatTimeouts{}, now + 302'000'000'000ULL);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->sessions_expired, 2u);
  EXPECT_EQ(first->markers_removed, 1u);
  EXPECT_EQ(markers(), (std::set<uint32_t>{a})) << "a:53 is still live";
  auto last = sweep_nat(m, NatTimeouts{}, now + 552'000'000'000ULL);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->sessions_expired, 1u);
  EXPECT_EQ(last->markers_removed, 1u);
  EXPECT_TRUE(markers().empty());
}

// ---- flow cache (bpf/flow_cache.h) -------------------------------------------

// Ethernet + IPv4 + TCP (20-byte header, no payload) with @flags.
std::vector<uint8_t> lan_tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                             uint8_t flags) {
  return lan_ipv4(src, dst, 6,
                  {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport),
                   static_cast<uint8_t>(dport >> 8), static_cast<uint8_t>(dport), 0, 0, 0, 1, 0, 0, 0, 1,
                   0x50, flags, 0xff, 0xff, 0, 0, 0, 0},
                  16);
}

// From the BR: IPv6 around UDP @remote:@rport -> our address:@ext_port.
std::vector<uint8_t> wan_udp(uint32_t remote, uint16_t rport, uint16_t ext_port) {
  auto inner = lan_udp(remote, rport, kPub, ext_port);
  inner.erase(inner.begin(), inner.begin() + 14);
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0x0b, 0x01, 0x02, 0, 0, 0, 0x0b, 0x02, 0x86, 0xdd,
                            0x60, 0, 0, 0, 0, static_cast<uint8_t>(inner.size()), 4, 64};
  auto br = Ipv6Addr::parse(kBr6)->bytes();
  auto ce = Ipv6Addr::parse(kCe6)->bytes();
  f.insert(f.end(), br.begin(), br.end());
  f.insert(f.end(), ce.begin(), ce.end());
  f.insert(f.end(), inner.begin(), inner.end());
  return f;
}

uint64_t packets(const CeDataplane& dp, mapgw_counter c) {
  return (*read_counters(dp.counters_fd()))[c].packets;
}

// Empty the NAT tables behind the cache's back (flush_nat would also retire
// the copies): what a copy still forwards then came from the copy.
void empty_tables(const CeDataplane& dp) {
  NatMaps m = dp.nat_maps();
  m.route_ctl = -1;
  ASSERT_TRUE(flush_nat(m).ok());
}

constexpr uint32_t kInside = (192u << 24) | (168u << 16) | (1u << 8) | 10u;
constexpr uint32_t kRemote = 0x08080808;

// ---- a full session table ----------------------------------------------------

size_t entries(int map_fd, size_t key_size) {
  std::vector<uint8_t> key(key_size), next(key_size);
  size_t n = 0;
  for (const void* prev = nullptr; bpf_map_get_next_key(map_fd, prev, next.data()) == 0; prev = key.data()) {
    key = next;
    ++n;
  }
  return n;
}

// A full table refuses a new session whole and counts it: no packet goes
// out without its session, and no reverse entry is left behind as an
// inbound path past address-and-port-dependent filtering (the attack run
// found 128 such entries with max_sessions = 1024).
TEST(CeNatFullTable, RefusesWholeAndCounted) {
  Topology topo;
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  auto loaded = CeDataplane::load(1024, 240, 5'000'000'000ULL, "", false, MAPGW_FLOW_CACHE_SETS);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  std::optional<CeDataplane> dp(std::move(*loaded));
  ASSERT_NO_FATAL_FAILURE(configure_ce(topo, &*dp, MAPGW_FILTER_ADDRESS_PORT_DEPENDENT));
  const int lan = dp->prog_fd(CeProgram::kXdpLan);
  auto remote = [](unsigned i) { return 0x08080000u + i; };
  unsigned sent = 0;
  uint16_t ext_port = 0;
  for (unsigned i = 0; i < 1500; ++i) {
    auto r = test_run_xdp(lan, lan_udp(kInside, 40000, remote(i), 53), topo.lan);
    ASSERT_TRUE(r.ok());
    if (r->retval == static_cast<uint32_t>(XDP_REDIRECT)) {
      ++sent;
      ext_port = inner_of(r->data_out).sport;
    }
  }
  const NatMaps m = dp->nat_maps();
  const size_t sessions = entries(m.sessions, sizeof(mapgw_nat_sess_key));
  EXPECT_GE(sessions, 1000u);
  EXPECT_EQ(entries(m.rsessions, sizeof(mapgw_nat_rsess_key)), sessions) << "reverse entries without a session";
  EXPECT_EQ(packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED), sessions);
  EXPECT_EQ(sent, sessions) << "a packet went out without its session";
  EXPECT_EQ(packets(*dp, MAPGW_CNT_DROP_NAT_TABLE_FULL), 1500u - sessions);
  // A refused remote endpoint answers: filtered, not let in.
  const uint64_t filtered = packets(*dp, MAPGW_CNT_DROP_NAT_FILTERED);
  auto in = test_run_xdp(dp->prog_fd(CeProgram::kXdpWan), wan_udp(remote(1100), 53, ext_port), topo.wan);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->retval, static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(packets(*dp, MAPGW_CNT_DROP_NAT_FILTERED), filtered + 1);
}

// The flow-cache tests: a loaded CE, every packet on one CPU (the cache is
// per CPU: a migration between two packets would look like a miss).
class CeFlowCache : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
    ASSERT_NO_FATAL_FAILURE(shared_ce(topo_, dp_));
  }

  Topology topo_;
  CeDataplane* dp_ = nullptr;
};

// A later packet of an established flow is forwarded from the copy, byte for
// byte as the full path does, even with the NAT tables emptied; a new epoch
// (what every agent change brings) sends it through the tables again.
TEST_F(CeFlowCache, OutboundCopyMatchesTheFullPathUntilInvalidated) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  const auto pkt = lan_udp(kInside, 40000, kRemote, 53);
  auto full = test_run_xdp(fd, pkt, topo_.lan);  // full path, fills the copy
  ASSERT_EQ(full->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), 1u);
  auto cached = test_run_xdp(fd, pkt, topo_.lan);
  ASSERT_EQ(cached->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), 1u) << "a hit is not a fill";
  EXPECT_EQ(cached->data_out, full->data_out) << "the copy forwards differently";
  EXPECT_TRUE(inner_of(cached->data_out).checksums_ok);
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp_));
  const uint64_t made = packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED);
  auto again = test_run_xdp(fd, pkt, topo_.lan);
  EXPECT_EQ(again->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED), made) << "the copy was not used";
  ASSERT_TRUE(route_cache_invalidate(dp_->route_ctl_fd()).ok());
  EXPECT_EQ(test_run_xdp(fd, pkt, topo_.lan)->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED), made + 1) << "a new epoch must miss";
}

// Copies live a second: a flow goes through the tables (and keeps its
// session alive) every second.
TEST_F(CeFlowCache, CopiesExpire) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  const auto pkt = lan_udp(kInside, 40001, kRemote, 53);
  ASSERT_EQ(test_run_xdp(fd, pkt, topo_.lan)->retval, static_cast<uint32_t>(XDP_REDIRECT));
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp_));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const uint64_t made = packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED);
  EXPECT_EQ(test_run_xdp(fd, pkt, topo_.lan)->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED), made + 1) << "an old copy was used";
}

// What shared_ce() hands a second test is what a load gives: no counts, no
// sessions, no flow-cache copy (the same packet takes the full path again).
TEST(CeSharedLoad, ComesBackAsFreshAsALoad) {
  ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
  Topology topo;
  CeDataplane* dp = nullptr;
  ASSERT_NO_FATAL_FAILURE(shared_ce(topo, dp));
  const auto pkt = lan_udp(kInside, 40001, kRemote, 53);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), pkt, topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  ASSERT_EQ(packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED), 1u);
  ASSERT_EQ(packets(*dp, MAPGW_CNT_FLOW_CACHE_FILL), 1u);

  ASSERT_NO_FATAL_FAILURE(shared_ce(topo, dp));
  auto counts = read_counters(dp->counters_fd());
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) EXPECT_EQ((*counts)[i].packets, 0u) << counter_label(i);
  uint8_t key[64];
  EXPECT_NE(bpf_map_get_next_key(dp->nat_maps().sessions, nullptr, key), 0) << "a session survived";
  ASSERT_EQ(test_run_xdp(dp->prog_fd(CeProgram::kXdpLan), pkt, topo.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED), 1u) << "the flow cache's copy survived";
  EXPECT_EQ(packets(*dp, MAPGW_CNT_FLOW_CACHE_FILL), 1u);
}

// One LAN host's share of the port set (mapgw_nat_policy): the attack run
// took all 240 5-tuples to one remote endpoint from one host, and every
// other host was locked out of it. With a share of 120 ports, the host's
// further endpoints get a counted refusal (no bound port is free for that
// endpoint) and another host still gets through; freed bindings give the
// share back.
TEST(CeNatHostShare, OneHostCannotTakeTheWholeSet) {
  Topology topo;
  std::optional<CeDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_ce(topo, dp));
  const int lan = dp->prog_fd(CeProgram::kXdpLan);
  auto fan = [&](uint32_t host, uint16_t first, unsigned n) {
    unsigned out = 0;
    for (unsigned i = 0; i < n; ++i) {
      auto r = test_run_xdp(lan, lan_udp(host, static_cast<uint16_t>(first + i), kRemote, 53), topo.lan);
      if (r.ok() && r->retval == static_cast<uint32_t>(XDP_REDIRECT)) ++out;
    }
    return out;
  };
  const uint32_t other = kInside + 1;
  // No share set: one host takes every port to the endpoint, the next is out.
  EXPECT_EQ(fan(kInside, 30000, 240), 240u);
  EXPECT_EQ(fan(other, 31000, 1), 0u) << "with no limit, the first host holds every 5-tuple";
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp));
  mapgw_nat_policy policy{};
  policy.host_port_limit = 120;
  ASSERT_TRUE(dp->set_nat_policy(policy).ok());
  const uint64_t bound = packets(*dp, MAPGW_CNT_NAT_BINDING_CREATED);
  EXPECT_EQ(fan(kInside, 32000, 240), 120u);
  EXPECT_EQ(packets(*dp, MAPGW_CNT_NAT_BINDING_CREATED) - bound, 120u);
  EXPECT_EQ(packets(*dp, MAPGW_CNT_DROP_NAT_HOST_PORTS), 120u);
  EXPECT_EQ(fan(other, 33000, 1), 1u) << "another host is locked out";
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp));  // as the sweeper does: the bindings go, the share comes back
  EXPECT_EQ(fan(kInside, 34000, 240), 120u);
}

// The same on the smallest cache (256 sets of 4), where sets fill up.
class CeSmallFlowCache : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
    ASSERT_NO_FATAL_FAILURE(shared_ce(topo_, dp_, 0, MAPGW_FLOW_CACHE_SETS_MIN));
  }

  Topology topo_;
  CeDataplane* dp_ = nullptr;
};

// More flows than a set has ways, taking turns: the copies in place keep
// hitting and the flows beyond the ways miss (counted as flow_cache_full),
// instead of each flow evicting the next; a copy gives way once it is an
// eighth of a second old. 1100 flows over the smallest cache (256 sets of 4).
TEST_F(CeSmallFlowCache, YoungCopiesKeepTheirPlace) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  constexpr uint32_t kFlows = 1100;
  std::vector<std::vector<uint8_t>> pkts;
  for (uint32_t i = 0; i < kFlows; ++i) {
    pkts.push_back(lan_udp(kInside, static_cast<uint16_t>(30000 + i % 110), kRemote + i / 110, 53));
  }
  auto pass = [&] {
    for (const auto& p : pkts) ASSERT_EQ(test_run_xdp(fd, p, topo_.lan)->retval, static_cast<uint32_t>(XDP_REDIRECT));
  };
  ASSERT_NO_FATAL_FAILURE(pass());
  const uint64_t filled = packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), full = packets(*dp_, MAPGW_CNT_FLOW_CACHE_FULL);
  EXPECT_EQ(filled + full, kFlows) << "every first packet is a miss, copied or not";
  EXPECT_LE(filled, 4u * MAPGW_FLOW_CACHE_SETS_MIN);
  EXPECT_GT(full, 0u) << "1100 flows in 1024 ways: some sets overflow";
  // At once again (well within 1/8 s): nothing is evicted, the same flows miss.
  ASSERT_NO_FATAL_FAILURE(pass());
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), filled) << "a young copy was evicted";
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FULL), 2 * full) << "a copied flow missed";
  // Older than 1/8 s: the flows beyond the ways take places in turn.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_NO_FATAL_FAILURE(pass());
  EXPECT_GT(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), filled) << "old copies never gave way";
}

// A refill takes the first way that is dead or the flow's own, so a flow
// pushed to a later way while the earlier ones were full moves forward once
// they die (every later way is a cache line in another quarter of the map),
// and the first copy of a key found is its newest. Set up by hand: the
// flow's set with two dead copies of other flows in ways 0 and 1 and the
// flow's own stale copy in way 2. (Entries as raw bytes: the key is the
// first 24 bytes of struct flow_head, the epoch the next 4; epoch 0 is never
// current.)
TEST_F(CeSmallFlowCache, ARefillMovesAFlowForward) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  const int map = testing::map_fd_by_name(fd, "mapgw_flow_cache");
  ASSERT_GE(map, 0);
  const bpf_map_info info = testing::map_info(map);
  ASSERT_GE(info.value_size, 28u);
  constexpr size_t kKeyLen = 24, kEpochAt = 24;
  constexpr uint32_t kSets = MAPGW_FLOW_CACHE_SETS_MIN;
  using Entry = std::vector<uint8_t>;
  auto read = [&](uint32_t idx) {
    Entry e(info.value_size);
    EXPECT_EQ(bpf_map_lookup_elem(map, &idx, e.data()), 0) << idx;
    return e;
  };
  auto write = [&](uint32_t idx, const Entry& e) {
    ASSERT_EQ(bpf_map_update_elem(map, &idx, e.data(), BPF_ANY), 0) << idx;
  };
  auto epoch_of = [&](const Entry& e) {
    uint32_t v;
    std::memcpy(&v, e.data() + kEpochAt, sizeof v);
    return v;
  };
  auto with_epoch = [&](Entry e, uint32_t v) {
    std::memcpy(e.data() + kEpochAt, &v, sizeof v);
    return e;
  };
  auto same_key = [&](const Entry& a, const Entry& b) {
    return std::equal(a.begin(), a.begin() + kKeyLen, b.begin());
  };

  const auto pkt = lan_udp(kInside, 40010, kRemote, 53);
  auto first = test_run_xdp(fd, pkt, topo_.lan);
  ASSERT_EQ(first->retval, static_cast<uint32_t>(XDP_REDIRECT));
  std::vector<uint32_t> filled;
  for (uint32_t i = 0; i < info.max_entries; ++i) {
    if (epoch_of(read(i)) != 0) filled.push_back(i);
  }
  ASSERT_EQ(filled.size(), 1u) << "one flow, one copy";
  const uint32_t way0 = filled[0];
  ASSERT_EQ(way0 / kSets % MAPGW_FLOW_CACHE_WAYS, 0u) << "an empty set's first way";
  const Entry own = read(way0);
  Entry other = own;
  other[0] ^= 0xff;  // another inside address
  write(way0, with_epoch(other, 0));
  write(way0 + kSets, with_epoch(other, 0));
  write(way0 + 2 * kSets, with_epoch(own, 0));

  const uint64_t fills = packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL);
  ASSERT_EQ(test_run_xdp(fd, pkt, topo_.lan)->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), fills + 1) << "a stale copy must miss";
  const Entry moved = read(way0);
  EXPECT_TRUE(same_key(moved, own)) << "the refill did not take the first dead way";
  EXPECT_NE(epoch_of(moved), 0u);
  EXPECT_TRUE(same_key(read(way0 + 2 * kSets), own)) << "the stale copy stays where it was";
  auto hit = test_run_xdp(fd, pkt, topo_.lan);
  ASSERT_EQ(hit->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), fills + 1)
      << "the new first copy was not used";
  EXPECT_EQ(hit->data_out, first->data_out);
  close(map);
}

// SYN, FIN and RST always take the full path (TCP state, MSS clamping).
TEST_F(CeFlowCache, TcpControlSegmentsBypassTheCopy) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  constexpr uint8_t kSyn = 0x02, kAck = 0x10, kFin = 0x01;
  ASSERT_EQ(test_run_xdp(fd, lan_tcp(kInside, 40002, kRemote, 443, kSyn), topo_.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  for (int i = 0; i < 2; ++i) {  // the first fills, the second uses the copy
    ASSERT_EQ(test_run_xdp(fd, lan_tcp(kInside, 40002, kRemote, 443, kAck), topo_.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp_));
  const uint64_t made = packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED);
  EXPECT_EQ(test_run_xdp(fd, lan_tcp(kInside, 40002, kRemote, 443, kAck), topo_.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED), made) << "ACK: the copy";
  EXPECT_EQ(test_run_xdp(fd, lan_tcp(kInside, 40002, kRemote, 443, kFin | kAck), topo_.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_NAT_SESSION_CREATED), made + 1) << "FIN used the copy";
}

// Flow labels spread over a fleet of remotes: one inside endpoint to 100
// hosts x 10 ports (addresses and ports differing in their last bytes, which
// a little-endian load puts at the top of a word) gets 1000 distinct labels
// but for chance collisions (1000 draws from 2^20: ~0.5 expected). An
// unfolded multiply-and-add hash gave them 256 values at most.
TEST_F(CeFlowCache, FlowLabelsSpreadOverRemotes) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  std::set<uint32_t> labels;
  for (uint32_t host = 1; host <= 100; ++host) {
    for (uint16_t port = 1000; port < 1010; ++port) {
      auto out = test_run_xdp(fd, lan_udp(kInside, 40006, (8u << 24) | host, port), topo_.lan);
      ASSERT_EQ(out->retval, static_cast<uint32_t>(XDP_REDIRECT));
      const auto& f = out->data_out;
      ASSERT_GE(f.size(), 14u + 40u);
      labels.insert(((f[15] & 0x0fu) << 16) | (f[16] << 8) | f[17]);
    }
  }
  EXPECT_GE(labels.size(), 995u);
}

// Only a packet the probe keyed and missed is copied: a SYN (never cached)
// right after another flow's miss must not fill that flow's key with its own
// translation.
TEST_F(CeFlowCache, OnlyAKeyedMissFills) {
  const int fd = dp_->prog_fd(CeProgram::kXdpLan);
  const auto udp = lan_udp(kInside, 40004, kRemote, 53);
  auto first = test_run_xdp(fd, udp, topo_.lan);  // a miss: keyed, filled
  ASSERT_EQ(first->retval, static_cast<uint32_t>(XDP_REDIRECT));
  ASSERT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), 1u);
  constexpr uint8_t kSyn = 0x02;
  ASSERT_EQ(test_run_xdp(fd, lan_tcp(kInside, 40005, kRemote, 443, kSyn), topo_.lan)->retval,
            static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_FLOW_CACHE_FILL), 1u) << "an unkeyed packet filled";
  auto cached = test_run_xdp(fd, udp, topo_.lan);
  ASSERT_EQ(cached->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(cached->data_out, first->data_out) << "the UDP flow's copy was overwritten";
}

// Inbound the same: a copy of the reverse translation and the LAN next hop.
TEST_F(CeFlowCache, InboundCopyUntilInvalidated) {
  auto out = test_run_xdp(dp_->prog_fd(CeProgram::kXdpLan), lan_udp(kInside, 40003, kRemote, 53),
                          topo_.lan);
  ASSERT_EQ(out->retval, static_cast<uint32_t>(XDP_REDIRECT));
  const uint16_t ext = inner_of(out->data_out).sport;
  const int fd = dp_->prog_fd(CeProgram::kXdpWan);
  const auto reply = wan_udp(kRemote, 53, ext);
  auto full = test_run_xdp(fd, reply, topo_.wan);
  ASSERT_EQ(full->retval, static_cast<uint32_t>(XDP_REDIRECT));
  auto cached = test_run_xdp(fd, reply, topo_.wan);
  ASSERT_EQ(cached->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(cached->data_out, full->data_out) << "the copy forwards differently";
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp_));
  EXPECT_EQ(test_run_xdp(fd, reply, topo_.wan)->retval, static_cast<uint32_t>(XDP_REDIRECT))
      << "the copy was not used";
  ASSERT_TRUE(route_cache_invalidate(dp_->route_ctl_fd()).ok());
  const uint64_t refused = packets(*dp_, MAPGW_CNT_DROP_NAT_NO_MAPPING);
  EXPECT_EQ(test_run_xdp(fd, reply, topo_.wan)->retval, static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(packets(*dp_, MAPGW_CNT_DROP_NAT_NO_MAPPING), refused + 1);
}

// The cache is sized at load (config flow_cache_sets): the map gets that many
// sets for every possible CPU and the programs index only this CPU's part;
// other sizes are refused.
TEST(CeFlowCacheSize, SizedAtLoad) {
  ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
  Topology topo;
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  for (uint32_t bad : {1000u, 128u, 2097152u}) {
    auto dp = CeDataplane::load(16384, 240, 5'000'000'000ULL, "", false, bad);
    ASSERT_FALSE(dp.ok()) << bad;
    EXPECT_NE(dp.error().message.find("flow_cache_sets"), std::string::npos) << dp.error().message;
  }
  auto dp = CeDataplane::load(16384, 240, 5'000'000'000ULL, "", false, 256);
  ASSERT_TRUE(dp.ok()) << dp.error().describe();
  ASSERT_TRUE(dp->set_config(ce_config(topo, 0)).ok());
  std::vector<uint32_t> ports{topo.lan, topo.wan};
  ASSERT_TRUE(dp->replace_tx_ports(ports).ok());
  const int fd = dp->prog_fd(CeProgram::kXdpLan);
  const int map = testing::map_fd_by_name(fd, "mapgw_flow_cache");
  ASSERT_GE(map, 0);
  EXPECT_EQ(testing::map_info(map).max_entries, 256u * MAPGW_FLOW_CACHE_WAYS * static_cast<uint32_t>(libbpf_num_possible_cpus()));
  close(map);
  // 64 flows into 256 sets: each is forwarded from its copy afterwards.
  for (uint16_t i = 0; i < 64; ++i) {
    ASSERT_EQ(test_run_xdp(fd, lan_udp(kInside, 41000 + i, kRemote, 53), topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
  }
  ASSERT_NO_FATAL_FAILURE(empty_tables(*dp));
  const uint64_t made = packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED);
  unsigned from_copy = 0;
  for (uint16_t i = 0; i < 64; ++i) {
    const uint64_t before = packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED);
    ASSERT_EQ(test_run_xdp(fd, lan_udp(kInside, 41000 + i, kRemote, 53), topo.lan)->retval,
              static_cast<uint32_t>(XDP_REDIRECT));
    from_copy += packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED) == before;
  }
  EXPECT_GE(from_copy, 60u) << "of 64 flows in 256 sets of 4; sessions made: "
                            << packets(*dp, MAPGW_CNT_NAT_SESSION_CREATED) - made;
}

// The WAN's entry program: the plain one unless spreading is asked for, then
// the spreader, with a cpumap entry per spread CPU (bpf/spread.h; the BR
// tests cover the hand-off itself, the CE lab the CE's traffic).
TEST(CeSpread, EntryProgramAndCpumapEntries) {
  ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
  ASSERT_GE(sysconf(_SC_NPROCESSORS_ONLN), 2) << "spreading needs two online CPUs (the test VM has 2)";
  Topology topo;
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  auto plain = CeDataplane::load(16384, 240, 5'000'000'000ULL);
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  EXPECT_EQ(testing::prog_name(plain->prog_fd(CeProgram::kXdpWan)), "mapgw_ce_wan");
  const std::vector<uint32_t> cpus{1};
  auto spread = CeDataplane::load(16384, 240, 5'000'000'000ULL, "", false, MAPGW_FLOW_CACHE_SETS, cpus);
  ASSERT_TRUE(spread.ok()) << spread.error().describe();
  const int fd = spread->prog_fd(CeProgram::kXdpWan);
  EXPECT_EQ(testing::prog_name(fd), "mapgw_ce_wanfan");
  const int cpumap = testing::map_fd_by_name(fd, "mapgw_spread");
  ASSERT_GE(cpumap, 0);
  bpf_cpumap_val v{};
  for (uint32_t cpu : {0u, 1u}) {
    const bool has = bpf_map_lookup_elem(cpumap, &cpu, &v) == 0 && v.qsize > 0;
    EXPECT_EQ(has, cpu == 1) << "CPU " << cpu;
  }
  close(cpumap);
}

// Every change the agent makes moves the epoch, so no copy outlives it.
TEST_F(CeFlowCache, AgentChangesMoveTheEpoch) {
  const int ctl = dp_->route_ctl_fd();
  auto moved = [&](const char* what, auto change) {
    const uint32_t before = *route_cache_epoch(ctl);
    ASSERT_TRUE(change().ok()) << what;
    EXPECT_NE(*route_cache_epoch(ctl), before) << what;
  };
  moved("set_config", [&] { return dp_->set_config(ce_config(topo_, 0)); });
  moved("replace_fmrs", [&] { return dp_->replace_fmrs({}); });
  moved("replace_filter", [&] { return dp_->replace_filter({}); });
  moved("replace_static_napt", [&] { return dp_->replace_static_napt({}); });
  std::vector<uint32_t> ports{topo_.lan, topo_.wan};
  moved("replace_tx_ports", [&] { return dp_->replace_tx_ports(ports); });
  moved("flush_nat", [&] { return flush_nat(dp_->nat_maps()); });
}

}  // namespace
}  // namespace mapgw
