// The BR programs through BPF_PROG_TEST_RUN, one case per fixture from
// gen_br_fixtures.py (input, verdict, output frame, counter). The programs
// run against a real FIB: the test process owns a private netns with two
// veth pairs, addresses, routes and permanent neighbours.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "agent/br/br_rule.h"
#include "br_fixtures.h"
#include "br_hostile.h"
#include "bpf_test_env.h"
#include "map_reset.h"
#include "loader/br_dataplane.h"
#include "loader/counters.h"
#include "loader/route_ctl.h"
#include "loader/test_run.h"
#include "netns_sandbox.h"

namespace br_fixtures {
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
}  // namespace br_fixtures

namespace mapgw {
namespace {

using br_fixtures::Case;

constexpr const char* kBr6 = "2001:db8:ffff::1";

struct Topology {
  unsigned v4_ifindex = 0, v6_ifindex = 0;
};

// Once per process: ctest runs each case in its own process, a direct run
// of the binary shares one namespace across cases.
void build_topology(Topology& t) {
  using testing::run;
  static Topology built;
  if (built.v4_ifindex != 0) {
    t = built;
    return;
  }
  ASSERT_NO_FATAL_FAILURE(testing::enter_private_netns());
  run("ip link add t4a type veth peer name t4b");
  run("ip link add t6a type veth peer name t6b");
  run("ip link set t4a address 02:00:00:00:04:01");
  run("ip link set t6a address 02:00:00:00:06:01");
  run("ip link set t6a mtu 1280");
  for (const char* i : {"t4a", "t4b", "t6a", "t6b"}) run(std::string("ip link set up dev ") + i);
  run("ip addr add 203.0.113.1/24 dev t4a");
  run(std::string("ip -6 addr add ") + kBr6 + "/64 dev t6a nodad");
  run("ip neigh add 203.0.113.2 lladdr 02:00:00:00:04:02 dev t4a nud permanent");
  run("ip -6 neigh add 2001:db8:ffff::2 lladdr 02:00:00:00:06:02 dev t6a nud permanent");
  run("ip route add default via 203.0.113.2 dev t4a");
  run("ip -6 route add 2001:db8::/32 via 2001:db8:ffff::2 dev t6a");
  run("ip -6 route add 240b::/16 via 2001:db8:ffff::2 dev t6a");
  testing::write_sysctl("net/ipv4/ip_forward", "1");
  testing::write_sysctl("net/ipv6/conf/all/forwarding", "1");
  t.v4_ifindex = if_nametoindex("t4a");
  t.v6_ifindex = if_nametoindex("t6a");
  ASSERT_NE(t.v4_ifindex, 0u);
  ASSERT_NE(t.v6_ifindex, 0u);
  built = t;
}

std::vector<mapgw_br_rule> test_rules() {
  auto br = *Ipv6Addr::parse(kBr6);
  std::vector<mapgw_br_rule> out;
  for (auto [text, legacy] : {std::pair{"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16", false},
                              {"ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4", true},
                              {"ipv6=2001:db8:100::/40,ipv4=198.51.100.0/24,ea=8", false}}) {
    auto spec = RuleSpec::parse(text);
    spec->legacy_iid = legacy;
    out.push_back(make_br_rule(*MapRule::create(*spec), br));
  }
  return out;
}

uint32_t counter_index(const std::string& label) {
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    if (counter_label(i) && label == counter_label(i)) return i;
  }
  ADD_FAILURE() << "no counter named " << label;
  return 0;
}

// Packets counter @name gained in @dp since the snapshot @before.
template <typename Snapshot>
uint64_t packets_since(const BrDataplane& dp, const Snapshot& before, const char* name) {
  return (*read_counters(dp.counters_fd()))[counter_index(name)].packets - before[counter_index(name)].packets;
}

// The test configuration written into a loaded (or reset) data plane.
void configure_br(const Topology& topo, BrDataplane* dp) {
  auto rules = test_rules();
  ASSERT_TRUE(dp->replace_rules(rules).ok());
  std::array<uint8_t, 16> br = Ipv6Addr::parse(kBr6)->bytes();
  ASSERT_TRUE(dp->replace_br_addresses(std::span(&br, 1)).ok());
  std::vector<uint32_t> ports{topo.v4_ifindex, topo.v6_ifindex};
  ASSERT_TRUE(dp->replace_tx_ports(ports).ok());
  mapgw_br_config cfg{};
  cfg.icmp_src_ipv4 = htonl(Ipv4Addr::parse("203.0.113.1")->value);
  ASSERT_TRUE(dp->set_config(cfg).ok());
}

// The topology plus a loaded, configured BR data plane.
void load_br(Topology& topo, std::optional<BrDataplane>& dp_out,
             std::span<const uint32_t> spread_cpus = {}) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  auto dp = BrDataplane::load(5'000'000'000ULL, "", MAPGW_FLOW_CACHE_SETS, spread_cpus);
  ASSERT_TRUE(dp.ok()) << dp.error().describe();
  dp_out.emplace(std::move(*dp));
  ASSERT_NO_FATAL_FAILURE(configure_br(topo, &*dp_out));
}

// One data plane (without spreading) loaded for the whole program and
// handed to each test that asks in the state just after its load
// (map_reset.h), then configured: the fixture table costs one verifier run.
void shared_br(Topology& topo, BrDataplane*& out) {
  static std::optional<BrDataplane> loaded;
  static testing::MapSnapshot fresh;
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  ASSERT_NO_FATAL_FAILURE(build_topology(topo));
  if (!loaded) {
    auto dp = BrDataplane::load(5'000'000'000ULL, "", MAPGW_FLOW_CACHE_SETS, {});
    ASSERT_TRUE(dp.ok()) << dp.error().describe();
    loaded.emplace(std::move(*dp));
    ASSERT_NO_FATAL_FAILURE(fresh.take({loaded->prog_fd(BrProgram::kXdpV4), loaded->prog_fd(BrProgram::kXdpV6),
                                        loaded->prog_fd(BrProgram::kTcV6), loaded->prog_fd(BrProgram::kTcEncap)}));
  } else {
    ASSERT_NO_FATAL_FAILURE(fresh.restore());
  }
  ASSERT_NO_FATAL_FAILURE(configure_br(topo, &*loaded));
  out = &*loaded;
}

class BrFixture : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(shared_br(topo_, dp_)); }

  Topology topo_;
  BrDataplane* dp_ = nullptr;
};

// Each case twice: the second time a cacheable packet is answered by the
// flow cache the first one filled, and must come out byte for byte the same.
TEST_P(BrFixture, VerdictOutputAndCounter) {
  ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
  const Case& c = GetParam();
  const std::string entry = c.program;
  const bool v4 = entry == "xdp_v4", tc = entry == "tc_v6";
  const int fd = dp_->prog_fd(v4 ? BrProgram::kXdpV4 : tc ? BrProgram::kTcV6 : BrProgram::kXdpV6);
  const unsigned ifindex = v4 ? topo_.v4_ifindex : topo_.v6_ifindex;
  for (const auto& p : c.prelude) ASSERT_TRUE(test_run_xdp(fd, p, ifindex).ok());

  for (const char* pass : {"first", "again"}) {
    SCOPED_TRACE(pass);
    auto before = read_counters(dp_->counters_fd());
    ASSERT_TRUE(before.ok());
    auto r = tc ? test_run(fd, c.input) : test_run_xdp(fd, c.input, ifindex);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->retval, c.verdict);
    if (c.has_output) {
      EXPECT_EQ(r->data_out, c.output) << "output frame differs from scapy's expectation";
    }
    auto after = read_counters(dp_->counters_fd());
    ASSERT_TRUE(after.ok());
    const uint32_t want = counter_index(c.counter);
    for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
      const uint64_t delta = (*after)[i].packets - (*before)[i].packets;
      if (i == MAPGW_CNT_FLOW_CACHE_FILL) continue;  // a cache statistic, not a disposition
      EXPECT_EQ(delta, i == want ? 1u : 0u)
          << "counter " << (counter_label(i) ? counter_label(i) : "?") << " moved by " << delta;
    }
  }
}

// Writes the header checksum of the IPv4 header at @ip in @p.
void set_ipv4_checksum(std::vector<uint8_t>& p, size_t ip) {
  uint32_t sum = 0;
  p[ip + 10] = p[ip + 11] = 0;
  for (size_t i = ip; i < ip + 20; i += 2) sum += (p[i] << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  p[ip + 10] = static_cast<uint8_t>(~sum >> 8);
  p[ip + 11] = static_cast<uint8_t>(~sum);
}

// 64k rules (10.a.b.0/24 <-> 2001:db8:i::/48, ea=16) go in at run time, the
// last one maps traffic, and replacing them with a small set removes them all.
TEST(BrRules, SixtyFourThousandRulesAtRunTime) {
  Topology topo;
  std::optional<BrDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_br(topo, dp));
  auto br = *Ipv6Addr::parse(kBr6);
  std::vector<mapgw_br_rule> many;
  for (unsigned i = 0; i < 65536; ++i) {
    RuleSpec s;
    s.ipv4 = {Ipv4Addr{(10u << 24) | (i << 8)}, 24};
    s.ipv6 = {Ipv6Addr{{0x20010db800000000ULL | (uint64_t{i} << 16), 0}}, 48};
    s.ea_len = 16;
    auto r = MapRule::create(s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    many.push_back(make_br_rule(*r, br));
  }
  auto st = dp->replace_rules(many);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(dp->rule_count(), 65536u);
  // UDP 1.2.3.4 -> 10.255.255.18:1232 (rule 65535, PSID 0x34).
  std::vector<uint8_t> pkt = {
      0x02, 0, 0, 0, 4, 1, 0x02, 0, 0, 0, 4, 2, 0x08, 0x00,            // Ethernet
      0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 10, 255, 255, 18,  // IPv4
      0x30, 0x39, 0x04, 0xd0, 0, 8, 0, 0};                              // UDP -> 1232
  set_ipv4_checksum(pkt, 14);
  auto r = test_run_xdp(dp->prog_fd(BrProgram::kXdpV4), pkt, topo.v4_ifindex);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT));
  ASSERT_GE(r->data_out.size(), 54u);
  // Outer destination 2001:db8:ffff:ff34:0:aff:ff12:34 (EA = 0x12 0x34 after /48).
  auto dst = Ipv6Addr::from_bytes(&r->data_out[14 + 24]);
  EXPECT_EQ(dst.str(), "2001:db8:ffff:1234:0:aff:ff12:34");
  ASSERT_TRUE(dp->replace_rules(test_rules()).ok());
  EXPECT_EQ(test_run_xdp(dp->prog_fd(BrProgram::kXdpV4), pkt, topo.v4_ifindex)->retval,
            static_cast<uint32_t>(XDP_PASS));  // not mapped any more
}

// UDP 1.2.3.4 -> @dst:1232.
std::vector<uint8_t> udp_to(uint32_t dst) {
  std::vector<uint8_t> p = {0x02, 0, 0, 0, 4, 1, 0x02, 0, 0, 0, 4, 2, 0x08, 0x00,
                            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4,
                            static_cast<uint8_t>(dst >> 24), static_cast<uint8_t>(dst >> 16),
                            static_cast<uint8_t>(dst >> 8), static_cast<uint8_t>(dst),
                            0x30, 0x39, 0x04, 0xd0, 0, 8, 0, 0};
  set_ipv4_checksum(p, 14);
  return p;
}

// The /16 cover in front of the rule tables: a rule shorter than /16 covers
// every /16 inside it, and replacing the rules shrinks the cover.
TEST(BrRules, ShortPrefixesCoverEverySixteenInside) {
  Topology topo;
  std::optional<BrDataplane> dp;
  ASSERT_NO_FATAL_FAILURE(load_br(topo, dp));
  auto br = *Ipv6Addr::parse(kBr6);
  auto rule = [&br](const char* text) {
    return make_br_rule(*MapRule::create(*RuleSpec::parse(text)), br);
  };
  const int prog = dp->prog_fd(BrProgram::kXdpV4);
  auto verdict = [&](uint32_t dst) { return test_run_xdp(prog, udp_to(dst), topo.v4_ifindex)->retval; };
  const uint32_t first = 10u << 24, last = (10u << 24) | 0xffff12, outside = 11u << 24 | 1;
  std::vector<mapgw_br_rule> wide{rule("ipv6=2001:db8::/32,ipv4=10.0.0.0/8,ea=24")};
  ASSERT_TRUE(dp->replace_rules(wide).ok());
  EXPECT_EQ(verdict(first | 1), static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(verdict(last), static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(verdict(outside), static_cast<uint32_t>(XDP_PASS));
  std::vector<mapgw_br_rule> narrow{rule("ipv6=2001:db8::/40,ipv4=10.255.255.0/24,ea=16")};
  ASSERT_TRUE(dp->replace_rules(narrow).ok());
  EXPECT_EQ(verdict(first | 1), static_cast<uint32_t>(XDP_PASS)) << "cover not shrunk";
  EXPECT_EQ(verdict(last), static_cast<uint32_t>(XDP_REDIRECT));
}

// UDP 1.2.3.4 -> 106.72.171.205:7920 (the v6plus rule's CE with PSID 0xef),

// @payload bytes of payload, DF set.
std::vector<uint8_t> to_v6plus_ce(size_t payload) {
  const uint16_t total = static_cast<uint16_t>(28 + payload);
  std::vector<uint8_t> p = {0x02, 0, 0, 0, 4, 1, 0x02, 0, 0, 0, 4, 2, 0x08, 0x00,
                            0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total),
                            0, 1, 0x40, 0, 64, 17, 0, 0, 1, 2, 3, 4, 106, 72, 171, 205,
                            0x30, 0x39, 0x1e, 0xf0, static_cast<uint8_t>((8 + payload) >> 8),
                            static_cast<uint8_t>(8 + payload), 0, 0};
  p.resize(p.size() + payload, 'x');
  set_ipv4_checksum(p, 14);
  return p;
}

// The destination MAC the BR writes for a packet to that CE (next hop
// 2001:db8:ffff::2 on t6a).
std::string next_hop_mac(const BrDataplane& dp, const Topology& t) {
  auto r = test_run_xdp(dp.prog_fd(BrProgram::kXdpV4), to_v6plus_ce(18), t.v4_ifindex);
  if (!r.ok() || r->retval != XDP_REDIRECT || r->data_out.size() < 6) return "not forwarded";
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", r->data_out[0], r->data_out[1],
                r->data_out[2], r->data_out[3], r->data_out[4], r->data_out[5]);
  return buf;
}

void set_next_hop_mac(const char* mac) {
  testing::run(std::string("ip -6 neigh replace 2001:db8:ffff::2 lladdr ") + mac +
               " dev t6a nud permanent");
}

// The cache tests: a loaded BR, every packet on one CPU (both caches are
// per CPU).
class BrOnOneCpu : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());
    ASSERT_NO_FATAL_FAILURE(shared_br(topo_, dp_));
  }

  Topology topo_;
  BrDataplane* dp_ = nullptr;
};
using BrRouteCache = BrOnOneCpu;
using BrFlowCache = BrOnOneCpu;

// The cache answers until the epoch moves (what the agent does on netlink
// news), or until an answer is a second old; off means every packet asks.
TEST_F(BrRouteCache, AnswersLastUntilTheEpochMovesOrTheyExpire) {
  const int ctl = dp_->route_ctl_fd();
  // Answers live a second: the cached one can only be seen if changing the
  // neighbour takes less (not always so in a loaded software-emulated
  // guest), so the step is timed and tried again when it was too slow.
  bool timely = false;
  for (int attempt = 0; attempt < 5 && !timely; ++attempt) {
    ASSERT_TRUE(route_cache_invalidate(ctl).ok());
    set_next_hop_mac("02:00:00:00:06:02");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(next_hop_mac(*dp_, topo_), "02:00:00:00:06:02");
    set_next_hop_mac("02:00:00:00:06:99");
    const std::string seen = next_hop_mac(*dp_, topo_);
    timely = std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(800);
    if (timely) {
      EXPECT_EQ(seen, "02:00:00:00:06:02") << "the cached answer is used";
    }
  }
  ASSERT_TRUE(timely) << "changing a neighbour took over 0.8 s five times: too slow to see a 1 s cache";
  ASSERT_TRUE(route_cache_invalidate(ctl).ok());
  EXPECT_EQ(next_hop_mac(*dp_, topo_), "02:00:00:00:06:99") << "a new epoch asks the FIB again";
  set_next_hop_mac("02:00:00:00:06:02");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(next_hop_mac(*dp_, topo_), "02:00:00:00:06:02") << "answers expire after a second";
  ASSERT_TRUE(route_cache_enable(ctl, false).ok());
  EXPECT_EQ(*route_cache_epoch(ctl), 0u);
  set_next_hop_mac("02:00:00:00:06:77");
  EXPECT_EQ(next_hop_mac(*dp_, topo_), "02:00:00:00:06:77") << "off: every packet asks the FIB";
  set_next_hop_mac("02:00:00:00:06:02");
}

// A cached answer is for packets no longer than one the kernel already let
// through: a bigger one meets the FIB's MTU check (t6a: MTU 1280).
TEST_F(BrRouteCache, BiggerPacketsStillMeetTheMtuCheck) {
  const int prog = dp_->prog_fd(BrProgram::kXdpV4);
  auto small = test_run_xdp(prog, to_v6plus_ce(18), topo_.v4_ifindex);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->retval, static_cast<uint32_t>(XDP_REDIRECT));
  auto before = read_counters(dp_->counters_fd());
  auto big = test_run_xdp(prog, to_v6plus_ce(1250), topo_.v4_ifindex);  // 1278 + 40 > 1280
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->retval, static_cast<uint32_t>(XDP_PASS));
  auto after = read_counters(dp_->counters_fd());
  EXPECT_EQ((*after)[counter_index("punt_frag_needed")].packets -
                (*before)[counter_index("punt_frag_needed")].packets,
            1u);
  auto again = test_run_xdp(prog, to_v6plus_ce(18), topo_.v4_ifindex);
  EXPECT_EQ(again->retval, static_cast<uint32_t>(XDP_REDIRECT));
}

// ---- encapsulation flow cache (bpf/flow_cache.h) -------------------------------

// Later packets to a CE's address and port are encapsulated from the copy,
// byte for byte as the full path does (the flow label still per packet),
// even with the rules gone; a new epoch sends them through the rules again.
TEST_F(BrFlowCache, EncapsulationCopyUntilInvalidated) {
  const int prog = dp_->prog_fd(BrProgram::kXdpV4);
  const auto pkt = to_v6plus_ce(18);
  auto other = pkt;  // another sender to the same CE port
  other[26 + 3] = 5;
  set_ipv4_checksum(other, 14);
  auto full = test_run_xdp(prog, pkt, topo_.v4_ifindex);
  ASSERT_EQ(full->retval, static_cast<uint32_t>(XDP_REDIRECT));
  auto cached = test_run_xdp(prog, pkt, topo_.v4_ifindex);
  EXPECT_EQ(cached->data_out, full->data_out) << "the copy encapsulates differently";
  auto other_cached = test_run_xdp(prog, other, topo_.v4_ifindex);
  ASSERT_EQ(other_cached->retval, static_cast<uint32_t>(XDP_REDIRECT));

  const int rules = testing::map_fd_by_name(prog, "mapgw_rules_v4");
  ASSERT_GE(rules, 0);
  mapgw_lpm4_key k{}, next{};
  std::vector<mapgw_lpm4_key> keys;
  for (bool first = true; bpf_map_get_next_key(rules, first ? nullptr : &k, &next) == 0; first = false) {
    keys.push_back(next);
    k = next;
  }
  for (const auto& key : keys) ASSERT_EQ(bpf_map_delete_elem(rules, &key), 0);
  EXPECT_EQ(test_run_xdp(prog, pkt, topo_.v4_ifindex)->retval, static_cast<uint32_t>(XDP_REDIRECT))
      << "the copy was not used";
  ASSERT_TRUE(route_cache_invalidate(dp_->route_ctl_fd()).ok());
  EXPECT_EQ(test_run_xdp(prog, pkt, topo_.v4_ifindex)->retval, static_cast<uint32_t>(XDP_PASS))
      << "a new epoch must ask the (now empty) rules";
  close(rules);

  ASSERT_TRUE(dp_->replace_rules(test_rules()).ok());
  auto other_full = test_run_xdp(prog, other, topo_.v4_ifindex);
  EXPECT_EQ(other_cached->data_out, other_full->data_out) << "flow label or addresses differ";
}

// UDP 106.72.171.205:7920 -> 1.2.3.4:53 from the v6plus CE (PSID 0xef),
// in an IPv6 header from @outer_src to @outer_dst.
// An Ethernet + IPv6 frame from the CE side, @src -> @dst, @next_header,
// carrying @payload.
std::vector<uint8_t> from_ce_side(const char* src, const char* dst, uint8_t next_header,
                                  const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> p = {0x02, 0, 0, 0, 6, 1, 0x02, 0, 0, 0, 6, 2, 0x86, 0xdd,
                            0x60, 0, 0, 0, 0, static_cast<uint8_t>(payload.size()), next_header, 64};
  for (const char* a : {src, dst}) {
    const auto b = Ipv6Addr::parse(a)->bytes();
    p.insert(p.end(), b.begin(), b.end());
  }
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<uint8_t> from_v6plus_ce(const char* outer_src, const char* outer_dst = kBr6) {
  std::vector<uint8_t> inner = {0x45, 0, 0, 38, 0, 1, 0x40, 0, 64, 17, 0, 0, 106, 72, 171, 205,
                                1, 2, 3, 4, 0x1e, 0xf0, 0, 53, 0, 18, 0, 0};
  inner.resize(inner.size() + 10, 'x');
  set_ipv4_checksum(inner, 0);
  return from_ce_side(outer_src, outer_dst, 4, inner);
}

constexpr const char* kV6plusCe = "240b:10:abcd:ef00:6a:48ab:cd00:ef00";

// A CE's flow, once checked, is decapsulated from the copy; the copy holds
// the outer addresses the §8.1 check passed, so the same inner flow under
// another outer source or destination still meets the check and its
// counter. A new epoch sends the flow through the rules again.
TEST_F(BrFlowCache, DecapsulationCopyKeepsTheSourceCheck) {
  const int prog = dp_->prog_fd(BrProgram::kXdpV6);
  const auto counters = [&] { return *read_counters(dp_->counters_fd()); };
  const auto moved = [&](const auto& before, const char* name) { return packets_since(*dp_, before, name); };
  const auto valid = from_v6plus_ce(kV6plusCe);
  auto before = counters();
  auto full = test_run_xdp(prog, valid, topo_.v6_ifindex);
  ASSERT_EQ(full->retval, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(moved(before, "flow_cache_fills"), 1u);
  before = counters();
  auto cached = test_run_xdp(prog, valid, topo_.v6_ifindex);
  EXPECT_EQ(cached->data_out, full->data_out);
  EXPECT_EQ(moved(before, "flow_cache_fills"), 0u) << "the second packet did not use the copy";
  EXPECT_EQ(moved(before, "br_decap"), 1u);

  before = counters();
  EXPECT_EQ(test_run_xdp(prog, from_v6plus_ce("240b:10:abcd:ef00::99"), topo_.v6_ifindex)->retval,
            static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(moved(before, "drop_not_ce_address"), 1u) << "a spoofed source rode on the copy";
  EXPECT_EQ(test_run_xdp(prog, from_v6plus_ce(kV6plusCe, "2001:db8:ffff::7"), topo_.v6_ifindex)->retval,
            static_cast<uint32_t>(XDP_PASS));
  EXPECT_EQ(moved(before, "pass_not_br"), 1u) << "a packet to another address rode on the copy";

  ASSERT_TRUE(dp_->replace_rules({}).ok());  // moves the epoch
  before = counters();
  EXPECT_EQ(test_run_xdp(prog, valid, topo_.v6_ifindex)->retval, static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(moved(before, "drop_no_rule"), 1u) << "a new epoch must ask the (now empty) rules";
}

TEST_F(BrFlowCache, AgentChangesMoveTheEpoch) {
  const int ctl = dp_->route_ctl_fd();
  auto moved = [&](const char* what, auto change) {
    const uint32_t before = *route_cache_epoch(ctl);
    ASSERT_TRUE(change().ok()) << what;
    EXPECT_NE(*route_cache_epoch(ctl), before) << what;
  };
  moved("replace_rules", [&] { return dp_->replace_rules(test_rules()); });
  std::array<uint8_t, 16> br = Ipv6Addr::parse(kBr6)->bytes();
  moved("replace_br_addresses", [&] { return dp_->replace_br_addresses(std::span(&br, 1)); });
  std::vector<uint32_t> ports{topo_.v4_ifindex, topo_.v6_ifindex};
  moved("replace_tx_ports", [&] { return dp_->replace_tx_ports(ports); });
  moved("set_config", [&] { return dp_->set_config(mapgw_br_config{}); });
}

// A BR serving two domains with their own BR addresses: a CE's tunnel
// packets must go to its own domain's BR address (both paths: XDP and the
// TC slow path share the check). Here the v6plus domain gets 2001:db8:ffff::b.
TEST_F(BrFlowCache, TunnelToAnotherDomainsBrAddressIsDropped) {
  constexpr const char* kOtherBr = "2001:db8:ffff::b";
  auto rules = test_rules();
  const auto other = Ipv6Addr::parse(kOtherBr)->bytes();
  std::memcpy(rules[1].br_addr, other.data(), 16);  // the v6plus rule (240b:10::/31)
  ASSERT_TRUE(dp_->replace_rules(rules).ok());
  std::array<std::array<uint8_t, 16>, 2> brs{Ipv6Addr::parse(kBr6)->bytes(), other};
  ASSERT_TRUE(dp_->replace_br_addresses(brs).ok());
  const auto moved = [&](const auto& before, const char* name) { return packets_since(*dp_, before, name); };
  for (BrProgram p : {BrProgram::kXdpV6, BrProgram::kTcV6}) {
    const int fd = dp_->prog_fd(p);
    const bool xdp = p == BrProgram::kXdpV6;
    auto before = *read_counters(dp_->counters_fd());
    auto r = xdp ? test_run_xdp(fd, from_v6plus_ce(kV6plusCe, kBr6), topo_.v6_ifindex)
                 : test_run(fd, from_v6plus_ce(kV6plusCe, kBr6));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->retval, xdp ? uint32_t(XDP_DROP) : uint32_t(TC_ACT_SHOT));
    EXPECT_EQ(moved(before, "drop_other_domain_br"), 1u) << (xdp ? "XDP" : "TC");
    before = *read_counters(dp_->counters_fd());
    r = xdp ? test_run_xdp(fd, from_v6plus_ce(kV6plusCe, kOtherBr), topo_.v6_ifindex)
            : test_run(fd, from_v6plus_ce(kV6plusCe, kOtherBr));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(moved(before, xdp ? "br_decap" : "tc_decap"), 1u) << "its own domain's BR address";
  }
}

// ---- receive spreading (bpf/spread.h) ------------------------------------------

// The spread CPU index of an inner UDP flow, computed here from the
// description in spread.h (not from the BPF code): the words as a
// little-endian CPU loads them, mapgw's flow hash, its top bits times the
// CPU count.
uint32_t expected_spread_index(const std::array<uint8_t, 4>& src, const std::array<uint8_t, 4>& dst,
                               uint8_t proto, uint16_t sport, uint16_t dport, bool with_ports,
                               uint32_t cpus) {
  auto le32 = [](const std::array<uint8_t, 4>& a) {
    return uint64_t(a[0]) | uint64_t(a[1]) << 8 | uint64_t(a[2]) << 16 | uint64_t(a[3]) << 24;
  };
  auto wire16 = [](uint16_t host) { return uint64_t((host >> 8) | ((host & 0xff) << 8)); };
  const uint64_t w0 = le32(dst) << 32 | le32(src);
  const uint64_t w1 = uint64_t(proto) << 32 | (with_ports ? wire16(dport) << 16 | wire16(sport) : 0);
  uint64_t h = w0 * 0x9e3779b97f4a7c15ULL + w1 * 0xc2b2ae3d27d4eb4fULL;
  h ^= h >> 32;
  h *= 0x165667b19e3779f9ULL;
  return static_cast<uint32_t>((uint64_t(uint32_t(h >> 32)) * cpus) >> 32);
}

// from_v6plus_ce's frame with another source port (in the CE's set: PSID
// 0xef at a = 4) and destination port, checksums unchanged (UDP checksum 0).
std::vector<uint8_t> v6plus_flow(uint16_t sport, uint16_t dport) {
  auto p = from_v6plus_ce(kV6plusCe);
  const size_t udp = 14 + 40 + 20;
  p[udp] = sport >> 8;
  p[udp + 1] = sport & 0xff;
  p[udp + 2] = dport >> 8;
  p[udp + 3] = dport & 0xff;
  return p;
}

class BrSpread : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::stay_on_one_cpu());  // CPU 0
    ASSERT_GE(sysconf(_SC_NPROCESSORS_ONLN), 2) << "spreading needs two online CPUs; this machine "
                                                   "has fewer (the test VM has 2)";
    ASSERT_NO_FATAL_FAILURE(load_br(topo_, dp_, cpus_));
  }
  template <typename Snapshot>
  uint64_t moved(const Snapshot& before, const char* name) {
    return packets_since(*dp_, before, name);
  }
  // Runs @frame once: true if it was handed to another CPU, false if it
  // was decapsulated here; anything else fails the test.
  bool handed_off(const std::vector<uint8_t>& frame) {
    const auto before = *read_counters(dp_->counters_fd());
    auto r = test_run_xdp(dp_->prog_fd(BrProgram::kXdpV6), frame, topo_.v6_ifindex);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->retval, static_cast<uint32_t>(XDP_REDIRECT));
    const uint64_t handoff = moved(before, "spread_handoff"), decap = moved(before, "br_decap");
    EXPECT_EQ(handoff + decap, 1u) << "handoff " << handoff << ", decap " << decap;
    return handoff == 1;
  }

  const std::vector<uint32_t> cpus_{0, 1};
  Topology topo_;
  std::optional<BrDataplane> dp_;
};

// Each flow goes to the CPU its inner 5-tuple hashes to, every time; this
// process runs on CPU 0, so flows of CPU 1 are handed off and the rest are
// decapsulated at once, byte for byte as without spreading.
TEST_F(BrSpread, FlowsGoToTheCpuOfTheirInnerFiveTuple) {
  const std::array<uint8_t, 4> ce{106, 72, 171, 205}, server{1, 2, 3, 4};
  unsigned handed = 0, kept = 0;
  for (uint16_t a = 1; a <= 8; ++a) {
    for (uint16_t j = 0; j < 8; ++j) {
      const uint16_t sport = uint16_t(a << 12 | 0xef << 4 | j), dport = uint16_t(1000 + j);
      const auto frame = v6plus_flow(sport, dport);
      const bool want = cpus_[expected_spread_index(ce, server, 17, sport, dport, true, 2)] != 0;
      EXPECT_EQ(handed_off(frame), want) << "sport " << sport << " dport " << dport;
      EXPECT_EQ(handed_off(frame), want) << "the same flow went elsewhere the second time";
      (want ? handed : kept)++;
    }
  }
  EXPECT_GE(handed, 16u);
  EXPECT_GE(kept, 16u);
}

// Every fragment of a datagram meets the first on one CPU: fragments are
// spread on addresses and protocol only, whatever their offset.
TEST_F(BrSpread, FragmentsFollowAddressesAndProtocol) {
  const std::array<uint8_t, 4> ce{106, 72, 171, 205}, server{1, 2, 3, 4};
  const bool want = cpus_[expected_spread_index(ce, server, 17, 0, 0, false, 2)] != 0;
  auto first = from_v6plus_ce(kV6plusCe);
  const size_t ip = 14 + 40;
  first[ip + 6] = 0x20;  // MF, offset 0
  auto later = first;
  later[ip + 6] = 0x00;
  later[ip + 7] = 0x10;  // offset 128 bytes, last fragment
  for (auto* f : {&first, &later}) set_ipv4_checksum(*f, ip);
  for (const auto* f : {&first, &later}) {
    const auto before = *read_counters(dp_->counters_fd());
    auto r = test_run_xdp(dp_->prog_fd(BrProgram::kXdpV6), *f, topo_.v6_ifindex);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(moved(before, "spread_handoff"), want ? 1u : 0u) << (f == &first ? "first" : "later");
  }
}

// What is no tunnel packet (here: ICMPv6 to the BR) is processed where it
// arrived; a CPU without a cpumap entry gets nothing: its flows are
// processed here instead of being dropped.
TEST_F(BrSpread, NonTunnelFramesAndMissingEntriesStayHere) {
  const auto icmp6 = from_ce_side(kV6plusCe, kBr6, 58, {128, 0, 0, 0, 0, 1, 0, 1});  // echo request
  auto before = *read_counters(dp_->counters_fd());
  ASSERT_TRUE(test_run_xdp(dp_->prog_fd(BrProgram::kXdpV6), icmp6, topo_.v6_ifindex).ok());
  EXPECT_EQ(moved(before, "spread_handoff"), 0u);

  const std::array<uint8_t, 4> ce{106, 72, 171, 205}, server{1, 2, 3, 4};
  uint16_t sport = 0, dport = 1000;  // a flow of CPU 1
  for (uint16_t j = 0; j < 16 && !sport; ++j) {
    const uint16_t p = uint16_t(1 << 12 | 0xef << 4 | j);
    if (cpus_[expected_spread_index(ce, server, 17, p, dport, true, 2)] == 1) sport = p;
  }
  ASSERT_NE(sport, 0) << "no flow of CPU 1 among 16";
  EXPECT_TRUE(handed_off(v6plus_flow(sport, dport)));
  const int cpumap = testing::map_fd_by_name(dp_->prog_fd(BrProgram::kXdpV6), "mapgw_spread");
  ASSERT_GE(cpumap, 0);
  const uint32_t one = 1;
  ASSERT_EQ(bpf_map_delete_elem(cpumap, &one), 0);
  EXPECT_FALSE(handed_off(v6plus_flow(sport, dport))) << "a CPU without an entry still got the flow";
  close(cpumap);
}

// Off by default: the plain entry program, nothing handed off.
TEST_F(BrFlowCache, SpreadingIsOffByDefault) {
  const auto before = *read_counters(dp_->counters_fd());
  for (uint16_t j = 0; j < 16; ++j) {
    auto r = test_run_xdp(dp_->prog_fd(BrProgram::kXdpV6),
                          v6plus_flow(uint16_t(1 << 12 | 0xef << 4 | j), 1000), topo_.v6_ifindex);
    ASSERT_TRUE(r.ok());
  }
  EXPECT_EQ(packets_since(*dp_, before, "spread_handoff"), 0u);
  EXPECT_EQ(testing::prog_name(dp_->prog_fd(BrProgram::kXdpV6)), "mapgw_br_v6");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BrFixture, ::testing::ValuesIn(br_fixtures::cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// The hostile corpus (gen_hostile_corpus.py): every entry, XDP and TC.
INSTANTIATE_TEST_SUITE_P(Hostile, BrFixture, ::testing::ValuesIn(br_fixtures::hostile_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mapgw
