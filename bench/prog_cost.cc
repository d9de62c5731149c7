// Per-packet cost of the data-plane programs, in the kernel, with
// BPF_PROG_TEST_RUN and a large repeat count (Google Benchmark drives the
// iterations; time is the kernel's own measurement). Every run passes through
// cost.bpf.c's restore step, which puts the frame back and walks over many
// flows or CEs; its cost (the floor) is measured in each iteration and
// subtracted. Each iteration checks the verdict and that the counter of the
// expected work grew by the repeat count, so a broken setup cannot produce a
// number. Every case also runs bare_encap in each of its iterations and
// reports vs_ref, its cost over bare_encap's from the same iterations: the
// target ratios, paired milliseconds apart instead of seconds (this VM's
// phases move the 20 ns reference by a third within seconds).
//
//   floor            restore + tail call + test-run loop
//   bare_encap       push Ethernet + IPv6, no lookups (the reference)
//   bare_encap_fwd   the same, counted and redirected through a devmap to
//                    another port: the least a forwarding endpoint does
//   bare_decap_fwd   an outer IPv6 header popped, counted, redirected: the
//                    least a decapsulating endpoint does (br_decap's frame)
//   least_*          the bare forwarders plus the least lookup a BR or CE
//                    needs and the use of its answer (least_path.h): the
//                    floor of br_encap/1, br_decap/1, ce_out and ce_in/1000;
//                    least_ce_out_10k walks 10 k flows (the floor
//                    of ce_out's cost for 10 k against 1 k active flows)
//   br_encap/R       BR IPv4 -> IPv6, walking over R rules (one CE each)
//   br_decap/R       BR IPv6 -> IPv4 with the source check, over R rules
//   ce_out/N/A       CE established flow, LAN -> WAN: N sessions installed,
//                    A of them active (walked over)
//   ce_in/N/A        the same flows, WAN -> LAN
//   ce_new_session   a new remote for a bound endpoint (session only)
//   ce_new_binding   a new inside endpoint: port claim + binding + session
//   prim_*           one operation each (cost.bpf.c): hash lookup over N
//                    entries with A active, FIB lookup, devmap lookup, counter,
//                    coarse clock; what the programs above are made of
//
// Run as root: build/bench/prog_cost [--benchmark_format=json] [--quick]
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/br/br_rule.h"
#include "agent/ce/nat_table.h"
#include "agent/map/rule.h"
#include "agent/net/ip.h"
#include "cost_abi.h"
#include "frames.h"
#include "loader/br_dataplane.h"
#include "loader/ce_dataplane.h"
#include "loader/counters.h"
#include "loader/kernel_features.h"
#include "loader/libbpf_log.h"
#include "loader/route_ctl.h"
#include "loader/skeleton.h"
#include "loader/test_run.h"
#include "mapgw_cost.skel.h"

namespace mapgw::bench {
namespace {

MAPGW_SKELETON_TRAITS(mapgw_cost);
using CostSkel = Skeleton<mapgw_cost_traits>;

constexpr const char* kBr6 = "2001:db8:ffff::1";           // the BR's own address
constexpr const char* kCeBr6 = "fd00:b::1";                 // the BR the CE talks to
constexpr const char* kCe6 = "240b:10:abcd:ef00:6a:48ab:cd00:ef00";
constexpr uint32_t kPub = (106u << 24) | (72u << 16) | (171u << 8) | 205u;
constexpr uint32_t kInside = (192u << 24) | (168u << 16) | (1u << 8) | 10u;
constexpr uint32_t kRemoteBase = 8u << 24;  // 8.0.0.0: remotes walk up from here
constexpr uint32_t kBrIpv4Peer = (203u << 24) | (113u << 8) | 2u;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "prog_cost: %s\n", msg.c_str());
  std::exit(1);
}

void sh(const std::string& c) {
  if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) die("failed: " + c);
}

std::array<uint8_t, 16> v6(const char* s) { return Ipv6Addr::parse(s)->bytes(); }

// One private netns with both roles' interfaces, routes and permanent
// neighbours: the programs' FIB lookups see a real kernel FIB.
struct Netns {
  unsigned lan, wan, slow, v4, v6;
  Netns() {
    if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET): needs root");
    sh("ip link set lo up");
    for (const char* p : {"l0", "w0", "s0", "t4a", "t6a"}) {
      sh(std::string("ip link add ") + p + " type veth peer name " + p + "p");
      sh(std::string("ip link set up dev ") + p + " && ip link set up dev " + p + "p");
    }
    sh("ip link set s0 arp off");
    // The frames' destination MAC (frames.h): the gateways take only frames to their own.
    for (const char* p : {"l0", "w0", "t4a", "t6a"}) sh(std::string("ip link set dev ") + p + " address 02:00:00:00:00:01");
    // CE: LAN, WAN towards its BR, and the slow-path device IPv4 routes into.
    sh("ip addr add 192.168.1.1/24 dev l0");
    sh("ip neigh add 192.168.1.10 lladdr 02:00:00:00:0a:0a dev l0 nud permanent");
    sh(std::string("ip -6 addr add 2001:db8:aaaa::2/64 dev w0 nodad && ip -6 addr add ") + kCe6 +
       "/128 dev w0 nodad");
    sh("ip -6 neigh add 2001:db8:aaaa::1 lladdr 02:00:00:00:0b:02 dev w0 nud permanent");
    sh("ip -6 route add fd00:b::/64 via 2001:db8:aaaa::1 dev w0");
    sh("ip route add default dev s0");
    // BR: IPv4 side and IPv6 side.
    sh("ip addr add 203.0.113.1/24 dev t4a");
    sh("ip neigh add 203.0.113.2 lladdr 02:00:00:00:04:02 dev t4a nud permanent");
    sh(std::string("ip -6 addr add ") + kBr6 + "/64 dev t6a nodad");
    sh("ip -6 neigh add 2001:db8:ffff::2 lladdr 02:00:00:00:06:02 dev t6a nud permanent");
    sh("ip -6 route add 2001:db8::/32 via 2001:db8:ffff::2 dev t6a");
    sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1");
    lan = if_nametoindex("l0");
    wan = if_nametoindex("w0");
    slow = if_nametoindex("s0");
    v4 = if_nametoindex("t4a");
    v6 = if_nametoindex("t6a");
  }
};

// The restore wrapper and its reference programs.
class Harness {
 public:
  Harness() {
    auto s = CostSkel::open();
    if (!s) die(s.error().describe());
    if (auto st = set_kernel_rodata(s->get()->rodata); !st) die(st.error().describe());
    if (auto st = s->load(); !st) die(st.error().describe());
    skel_.emplace(std::move(*s));
  }
  struct Walk {
    std::array<uint32_t, 3> offset{};
    uint32_t width = 4, base = 0, stride = 1, count = 0;
  };
  void prepare(int target_fd, const std::vector<uint8_t>& frame, const Walk& fast,
               const Walk& slow, uint64_t start = 0) {
    auto* d = skel_->get()->data_cost;
    std::memcpy(d->frame, frame.data(), kFrameLen);
    set(d->walk_fast, fast);
    set(d->walk_slow, slow);
    d->ipv4_at = ipv4_header_offset(frame);
    d->runs = start;
    set_target(target_fd);
    frame_ = frame;
  }
  void set_target(int fd) {
    uint32_t key = 0;
    if (bpf_map_update_elem(bpf_map__fd(skel_->get()->maps.cost_target), &key, &fd, 0)) {
      die("prog array update: " + std::string(std::strerror(errno)));
    }
  }
  uint64_t runs() const { return skel_->get()->data_cost->runs; }
  void set_runs(uint64_t n) { skel_->get()->data_cost->runs = n; }
  int nop_fd() const { return bpf_program__fd(skel_->get()->progs.cost_nop); }
  int encap_fd() const { return bpf_program__fd(skel_->get()->progs.cost_encap); }
  int encap_fwd_fd() const { return bpf_program__fd(skel_->get()->progs.cost_encap_fwd); }
  int decap_fwd_fd() const { return bpf_program__fd(skel_->get()->progs.cost_decap_fwd); }
  mapgw_cost* skel() { return skel_->get(); }

  // Mean ns per run of @repeat runs; *verdict = the last run's.
  double run(unsigned ifindex, uint32_t repeat, uint32_t* verdict) {
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame_.size());
    ctx.ingress_ifindex = ifindex;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame_.data(),
                .data_size_in = static_cast<uint32_t>(frame_.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof ctx, .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(bpf_program__fd(skel_->get()->progs.bench_restore), &opts)) {
      die("BPF_PROG_TEST_RUN: " + std::string(std::strerror(errno)));
    }
    if (verdict) *verdict = opts.retval;
    return opts.duration;
  }

 private:
  static void set(field_walk& w, const Walk& from) {
    for (int i = 0; i < 3; ++i) w.offset[i] = from.offset[i];
    w.width = from.width;
    w.base = from.base;
    w.stride = from.stride;
    w.count = from.count;
  }
  std::optional<CostSkel> skel_;
  std::vector<uint8_t> frame_;
};

// One measured case: the program, its frame and walks, and the counter
// that must grow by one per run.
struct Case {
  int prog_fd;
  unsigned ifindex;
  std::vector<uint8_t> frame;
  Harness::Walk fast, slow;
  int counters_fd;  // -1: no counter check (reference programs)
  uint32_t counter;
  uint32_t verdict;
  bool continue_walk = false;  // new-state cases: never revisit a flow
  uint32_t repeat = 0;         // runs per iteration; 0 = repeat_count
  std::function<void()> between;  // untimed, after each iteration
  int route_ctl_fd = -1;          // a mapgw data plane's cache epoch (route_ctl.h)
};

uint64_t counter_packets(int fd, uint32_t idx) {
  auto snap = read_counters(fd);
  if (!snap) die(snap.error().describe());
  return (*snap)[idx].packets;
}

// What a case's counters say, from one read: its work counter, and the
// cacheable packets that missed the flow cache (copied, or left uncopied
// because their set was full of young copies).
struct CaseCounts {
  uint64_t work = 0, misses = 0;
};

CaseCounts case_counts(const Case& c) {
  if (c.counters_fd < 0) return {};
  auto snap = read_counters(c.counters_fd);
  if (!snap) die(snap.error().describe());
  return {(*snap)[c.counter].packets,
          (*snap)[MAPGW_CNT_FLOW_CACHE_FILL].packets + (*snap)[MAPGW_CNT_FLOW_CACHE_FULL].packets};
}

uint32_t repeat_count = 100000;

// @repeat runs of the floor, then of @c's program from walk step @start:
// mean ns per run of each.
struct Timed {
  double floor, ns;
};
// @repeat runs of @c's program from walk step @start: mean ns per run.
double run_case(Harness& h, const Case& c, uint32_t repeat, uint64_t start, uint32_t* verdict) {
  h.prepare(c.prog_fd, c.frame, c.fast, c.slow, start);
  return h.run(c.ifindex, repeat, verdict);
}

Timed run_with_floor(Harness& h, const Case& c, uint32_t repeat, uint64_t start,
                     uint32_t* verdict) {
  h.prepare(h.nop_fd(), c.frame, c.fast, c.slow);
  const double floor = h.run(c.ifindex, repeat, nullptr);
  return {floor, run_case(h, c, repeat, start, verdict)};
}

// The reference's cost above its floor, for vs_ref.
double reference_net(Harness& h, const Case& ref, uint32_t repeat) {
  uint32_t verdict = 0;
  const Timed t = run_with_floor(h, ref, repeat, 0, &verdict);
  if (verdict != ref.verdict) die("reference: verdict " + std::to_string(verdict));
  return t.ns - t.floor;
}

void measure(benchmark::State& state, Harness& h, const Case& c, const Case& ref) {
  double floor_sum = 0, ns_sum = 0, ref_sum = 0;
  uint64_t next = 0, iteration = 0, misses = 0;
  const uint32_t repeat = c.repeat ? c.repeat : repeat_count;
  // A data plane's flow cache still holds the copies the previous case (or
  // the session install) made, live and too young to give way for up to
  // 1/8 s (bpf/flow_cache.h): they would keep this case's flows out. A new
  // epoch retires them, so the case meets the cache as its own steady
  // traffic would.
  // One untimed pass then fills it: an established flow is one the cache
  // holds (the lab's rounds meet it so too). New-state cases never revisit
  // a flow.
  if (c.route_ctl_fd >= 0) {
    if (!route_cache_invalidate(c.route_ctl_fd)) die("route_cache_invalidate");
    uint32_t verdict = 0;
    if (!c.continue_walk) run_case(h, c, repeat, 0, &verdict);
  }
  for (auto _ : state) {
    uint32_t verdict = 0;
    // The reference before the case in even iterations, after it in odd
    // ones: whichever runs second measures a few percent faster.
    const bool ref_first = iteration++ % 2 == 0;
    if (ref_first) ref_sum += reference_net(h, ref, repeat);
    const CaseCounts before = case_counts(c);
    const auto [floor, ns] = run_with_floor(h, c, repeat, c.continue_walk ? next : 0, &verdict);
    next = h.runs();
    if (verdict != c.verdict) {
      state.SkipWithError(("verdict " + std::to_string(verdict) + ", expected " +
                           std::to_string(c.verdict)).c_str());
      break;
    }
    if (c.counters_fd >= 0) {
      const CaseCounts after = case_counts(c);
      const uint64_t grew = after.work - before.work;
      if (grew != repeat) {
        state.SkipWithError(("counter grew by " + std::to_string(grew) + ", expected " +
                             std::to_string(repeat)).c_str());
        break;
      }
      misses += after.misses - before.misses;
    }
    state.SetIterationTime(ns * repeat / 1e9);
    floor_sum += floor;
    ns_sum += ns;
    if (!ref_first) ref_sum += reference_net(h, ref, repeat);
    if (c.between) c.between();
  }
  const double n = static_cast<double>(state.iterations());
  if (n > 0) {
    state.counters["ns"] = ns_sum / n;
    state.counters["floor_ns"] = floor_sum / n;
    state.counters["net_ns"] = (ns_sum - floor_sum) / n;
    // Sums, not a median of per-iteration ratios: test-run reports whole
    // ns per run, a 1 ns step of a 20 ns reference.
    state.counters["vs_ref"] = (ns_sum - floor_sum) / ref_sum;
    // The share of runs that missed the flow cache and took the full path.
    if (c.counters_fd >= 0) state.counters["miss_share"] = static_cast<double>(misses) / (n * repeat);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * repeat);
}

// ---- BR ---------------------------------------------------------------------

// Rule i: 10.(i>>8).(i&255).0/24 <-> 2001:db8:i::/48, ea=16 (PSID 8 bits at
// offset 6). The walked CE in rule i: host .18, PSID 0x34, port 1232.
std::vector<mapgw_br_rule> br_rules(unsigned n) {
  auto br = *Ipv6Addr::parse(kBr6);
  std::vector<mapgw_br_rule> out;
  for (unsigned i = 0; i < n; ++i) {
    RuleSpec s;
    s.ipv4 = {Ipv4Addr{(10u << 24) | (i << 8)}, 24};
    s.ipv6 = {Ipv6Addr{{0x20010db800000000ULL | (uint64_t{i} << 16), 0}}, 48};
    s.ea_len = 16;
    out.push_back(make_br_rule(*MapRule::create(s), br));
  }
  return out;
}

BrDataplane load_br(const Netns& ns, unsigned rules) {
  auto dp = BrDataplane::load(5'000'000'000ULL);
  if (!dp) die(dp.error().describe());
  if (!dp->replace_rules(br_rules(rules))) die("BR rules");
  auto br = v6(kBr6);
  std::vector<uint32_t> ports{ns.v4, ns.v6};
  mapgw_br_config cfg{};
  cfg.icmp_src_ipv4 = htonl((203u << 24) | (113u << 8) | 1u);
  if (!dp->replace_br_addresses(std::span(&br, 1)) || !dp->replace_tx_ports(ports) ||
      !dp->set_config(cfg)) {
    die("BR config");
  }
  return std::move(*dp);
}

// A case's program and the counter its work must move (-1: none checked).
Case with_program(Case c, int prog_fd, int counters_fd, uint32_t counter, int route_ctl_fd = -1) {
  c.prog_fd = prog_fd;
  c.counters_fd = counters_fd;
  c.counter = counter;
  c.route_ctl_fd = route_ctl_fd;
  return c;
}

// The BR's IPv4 side: to 10.x.y.18:1232, walked over @rules /24s.
Case br_encap_frames(const Netns& ns, unsigned rules) {
  FrameBuilder b;
  b.eth(0x0800).ipv4(kBrIpv4Peer, (10u << 24) | 18u).udp(53, 1232);
  Case c{-1, ns.v4, b.done(), {}, {}, -1, 0, XDP_REDIRECT};
  const uint32_t dst = static_cast<uint32_t>(b.ipv4_offset() + 16);
  c.fast = {{dst + 1, 0, 0}, 2, 0, 1, rules};  // the rule's 16 bits of 10.x.y.18
  return c;
}

Case br_encap_case(const Netns& ns, const BrDataplane& dp, unsigned rules) {
  return with_program(br_encap_frames(ns, rules), dp.prog_fd(BrProgram::kXdpV4), dp.counters_fd(),
                      MAPGW_CNT_BR_ENCAP, dp.route_ctl_fd());
}

// CE (rule 0) -> BR: 2001:db8:0:1234:0:a00:12:34, inner 10.0.0.18:1232.
FrameBuilder br_decap_frame() {
  FrameBuilder b;
  b.eth(0x86dd)
      .ipv6(v6("2001:db8:0:1234:0:a00:12:34"), v6(kBr6))
      .ipv4((10u << 24) | 18u, kBrIpv4Peer)
      .udp(1232, 53);
  return b;
}

// br_decap_frame walked over rule i: 2001:db8:i:1234:0:a(i):(i)12:34, inner 10.(i).18.
Case br_decap_frames(const Netns& ns, unsigned rules) {
  FrameBuilder b = br_decap_frame();
  Case c{-1, ns.v6, b.done(), {}, {}, -1, 0, XDP_REDIRECT};
  const uint32_t src6 = static_cast<uint32_t>(b.ipv6_offset() + 8);
  const uint32_t src4 = static_cast<uint32_t>(b.ipv4_offset() + 12);
  c.fast = {{src6 + 4, src6 + 11, src4 + 1}, 2, 0, 1, rules};
  return c;
}

Case br_decap_case(const Netns& ns, const BrDataplane& dp, unsigned rules) {
  return with_program(br_decap_frames(ns, rules), dp.prog_fd(BrProgram::kXdpV6), dp.counters_fd(),
                      MAPGW_CNT_BR_DECAP, dp.route_ctl_fd());
}

// ---- CE ---------------------------------------------------------------------

struct Ce {
  CeDataplane dp;
  uint16_t ext_port = 0;  // the walked endpoint's external port (host order)
};

Ce load_ce(const Netns& ns, uint32_t max_sessions) {
  auto dp = CeDataplane::load(max_sessions, 240, 5'000'000'000ULL);
  if (!dp) die(dp.error().describe());
  mapgw_ce_config c{};
  c.ce_addr = Ipv6Addr::parse(kCe6)->value;
  c.br_addr = Ipv6Addr::parse(kCeBr6)->value;
  c.ipv4 = htonl(kPub);
  c.icmp_src = htonl((192u << 24) | (168u << 16) | (1u << 8) | 1u);
  c.psid = 0xef;
  c.psid_len = 8;
  c.psid_offset = 4;
  c.tunnel_mtu = 1460;
  c.lan_ifindex = ns.lan;
  c.slow_ifindex = ns.slow;
  std::vector<uint32_t> ports{ns.lan, ns.wan};
  if (!dp->set_config(c) || !dp->replace_tx_ports(ports)) die("CE config");
  return Ce{std::move(*dp)};
}

// Inside 192.168.1.10:40000 (or walked) -> remote 8.x.y.z:53 (walked).
Case ce_out_frames(const Netns& ns, uint32_t remotes) {
  FrameBuilder b;
  b.eth(0x0800).ipv4(kInside, kRemoteBase).udp(40000, 53);
  Case c{-1, ns.lan, b.done(), {}, {}, -1, 0, XDP_REDIRECT};
  c.fast = {{static_cast<uint32_t>(b.ipv4_offset() + 16), 0, 0}, 4, kRemoteBase, 1, remotes};
  return c;
}

Case ce_out_case(const Netns& ns, const Ce& ce, uint32_t remotes) {
  return with_program(ce_out_frames(ns, remotes), ce.dp.prog_fd(CeProgram::kXdpLan), ce.dp.counters_fd(),
                      MAPGW_CNT_CE_OUT, ce.dp.route_ctl_fd());
}

// Remote 8.x.y.z:53 (walked) -> our external port @ext_port, from the BR.
Case ce_in_frames(const Netns& ns, uint32_t remotes, uint16_t ext_port) {
  FrameBuilder b;
  b.eth(0x86dd).ipv6(v6(kCeBr6), v6(kCe6)).ipv4(kRemoteBase, kPub).udp(53, ext_port);
  Case c{-1, ns.wan, b.done(), {}, {}, -1, 0, XDP_REDIRECT};
  c.fast = {{static_cast<uint32_t>(b.ipv4_offset() + 12), 0, 0}, 4, kRemoteBase, 1, remotes};
  return c;
}

Case ce_in_case(const Netns& ns, const Ce& ce, uint32_t remotes) {
  return with_program(ce_in_frames(ns, remotes, ce.ext_port), ce.dp.prog_fd(CeProgram::kXdpWan),
                      ce.dp.counters_fd(), MAPGW_CNT_CE_IN, ce.dp.route_ctl_fd());
}

// Sessions from the walked endpoint to @n remotes, made by the program
// itself; also learns the endpoint's external port.
void install_sessions(Harness& h, const Netns& ns, Ce& ce, uint32_t n) {
  Case c = ce_out_case(ns, ce, n);
  auto first = test_run_xdp(c.prog_fd, c.frame, ns.lan);
  if (!first || first->retval != XDP_REDIRECT || first->data_out.size() < 14 + 40 + 20 + 2) {
    die("CE did not forward the first packet");
  }
  const auto& o = first->data_out;
  ce.ext_port = static_cast<uint16_t>((o[14 + 40 + 20] << 8) | o[14 + 40 + 21]);
  h.prepare(c.prog_fd, c.frame, c.fast, c.slow);
  for (uint32_t done = 0; done < n;) {
    const uint32_t step = std::min<uint32_t>(n - done, 1'000'000);
    h.set_runs(done);
    h.run(ns.lan, step, nullptr);
    done += step;
  }
  const uint64_t made = counter_packets(ce.dp.counters_fd(), MAPGW_CNT_NAT_SESSION_CREATED);
  if (made < n) die("installed " + std::to_string(made) + " of " + std::to_string(n) + " sessions");
}

bool quick = false;

// The route and flow caches are per CPU, and their copies live a second:
// a migration between two iterations would make the next one miss for every
// walked flow (1 k flows: about a millisecond of full paths in a 5 ms
// iteration). An XDP program sees a flow on the CPU its receive queue is
// served by, so the whole run stays on the CPU it started on.
void stay_on_one_cpu() {
  const int cpu = sched_getcpu();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu < 0 ? 0 : cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity: " + std::string(std::strerror(errno)));
}

// ---- primitives ----------------------------------------------------------------

// @n keys for cost_hash: the IPv4 destinations the CE cases walk over.
void fill_cost_hash(mapgw_cost* skel, uint32_t n) {
  static uint32_t filled = 0;
  const int fd = bpf_map__fd(skel->maps.cost_hash_map);
  for (uint32_t i = filled; i < n; ++i) {
    uint32_t key[4] = {htonl(kRemoteBase + i), 0, 0, 0};
    uint64_t v = i;
    if (bpf_map_update_elem(fd, key, &v, BPF_NOEXIST)) die("cost_hash fill");
  }
  filled = std::max(filled, n);
}

template <typename Reg>
void register_primitives(Harness& h, const Netns& ns, Reg& reg) {
  auto frame = [] {
    FrameBuilder b;
    b.eth(0x0800).ipv4(kInside, kRemoteBase).udp(40000, 53);
    return b;
  };
  auto simple = [&h, &ns, frame](int fd) {
    return Case{fd, ns.lan, frame().done(), {}, {}, -1, 0, XDP_TX};
  };
  for (auto [entries, active] : {std::pair{1000u, 1000u}, {10000u, 10000u}, {1000000u, 10000u}, {1000000u, 1000000u}}) {
    reg("prim_hash/entries:" + std::to_string(entries) + "/active:" + std::to_string(active),
        [&h, simple, frame, entries, active] {
          fill_cost_hash(h.skel(), entries);
          Case c = simple(bpf_program__fd(h.skel()->progs.cost_hash));
          c.fast = {{static_cast<uint32_t>(frame().ipv4_offset() + 16), 0, 0}, 4, kRemoteBase, 1,
                    active};
          return c;
        }, 10);
  }
  reg("prim_fib", [&h, simple] {
    std::memcpy(h.skel()->data_cost->fib_dst, v6(kCeBr6).data(), 16);
    return simple(bpf_program__fd(h.skel()->progs.cost_fib));
  }, 10);
  reg("prim_route_cache", [&h, simple] {
    std::memcpy(h.skel()->data_cost->fib_dst, v6(kCeBr6).data(), 16);
    const uint32_t zero = 0;
    mapgw_route_ctl ctl{};
    ctl.epoch = 1;
    if (bpf_map_update_elem(bpf_map__fd(h.skel()->maps.mapgw_route_ctl), &zero, &ctl, 0)) {
      die("route ctl");
    }
    return simple(bpf_program__fd(h.skel()->progs.cost_route_cache));
  }, 10);
  reg("prim_devmap", [&h, &ns, simple] {
    uint32_t ifindex = ns.lan;
    if (bpf_map_update_elem(bpf_map__fd(h.skel()->maps.cost_devmap_map), &ifindex, &ifindex, 0)) {
      die("cost_devmap fill");
    }
    return simple(bpf_program__fd(h.skel()->progs.cost_devmap));
  }, 10);
  reg("prim_counter", [&h, simple] { return simple(bpf_program__fd(h.skel()->progs.cost_counter)); }, 10);
  reg("prim_clock", [&h, simple] { return simple(bpf_program__fd(h.skel()->progs.cost_clock)); }, 10);
}

void register_all(Harness& h, const Netns& ns) {
  using benchmark::RegisterBenchmark;
  // The reference every case is also measured against (vs_ref).
  auto bare_encap = [&] {
    FrameBuilder b;
    b.eth(0x0800).ipv4(kInside, kRemoteBase).udp(40000, 53);
    return Case{h.encap_fd(), ns.lan, b.done(), {}, {}, -1, 0, XDP_TX};
  };
  auto ref = std::make_shared<const Case>(bare_encap());
  auto reg = [&h, ref](const std::string& name, std::function<Case()> make, int iterations) {
    auto* b = RegisterBenchmark(name.c_str(), [&h, make, ref](benchmark::State& st) {
      const Case c = make();
      measure(st, h, c, *ref);
    });
    b->UseManualTime()->Iterations(quick ? std::max(2, iterations / 3) : iterations)->Unit(benchmark::kMillisecond);
  };
  // Data planes are made when a benchmark first needs them, so a filter
  // (--benchmark_filter) pays only for what it runs.
  static std::map<unsigned, std::unique_ptr<BrDataplane>> brs;
  static std::map<uint32_t, std::unique_ptr<Ce>> ces;  // by installed sessions
  auto br_for = [&ns](unsigned rules) {
    auto& dp = brs[rules];
    if (!dp) dp = std::make_unique<BrDataplane>(load_br(ns, rules));
    return dp.get();
  };
  auto ce_with = [&ns, &h](uint32_t sessions) {
    auto& ce = ces[sessions];
    if (!ce) {
      ce = std::make_unique<Ce>(load_ce(ns, sessions ? sessions + sessions / 4 + 1024 : 1u << 21));
      if (sessions) install_sessions(h, ns, *ce, sessions);
    }
    return ce.get();
  };

  reg("floor", [&] {
    FrameBuilder b;
    b.eth(0x0800).ipv4(kInside, kRemoteBase).udp(40000, 53);
    return Case{h.nop_fd(), ns.lan, b.done(), {}, {}, -1, 0, XDP_TX};
  }, 10);
  reg("bare_encap", [ref] { return *ref; }, 10);
  // The two bare forwarders send to another port through cost_devmap_map.
  auto forward_to = [&h](uint32_t egress) {
    if (bpf_map_update_elem(bpf_map__fd(h.skel()->maps.cost_devmap_map), &egress, &egress, 0)) {
      die("cost_devmap fill");
    }
    h.skel()->data_cost->fwd_ifindex = egress;
  };
  reg("bare_encap_fwd", [&h, &ns, forward_to] {
    FrameBuilder b;
    b.eth(0x0800).ipv4(kInside, kRemoteBase).udp(40000, 53);
    forward_to(ns.wan);
    return Case{h.encap_fwd_fd(), ns.lan, b.done(), {}, {}, -1, 0, XDP_REDIRECT};
  }, 10);
  reg("bare_decap_fwd", [&h, &ns, forward_to] {
    forward_to(ns.v4);
    return Case{h.decap_fwd_fd(), ns.v6, br_decap_frame().done(), {}, {}, -1, 0, XDP_REDIRECT};
  }, 10);
  // The least lookup-driven endpoints (cost.bpf.c's least_*) over the frames
  // and walks of the mapgw cases they bound (1 CE; 1 k active flows).
  auto least = [forward_to](Case c, int prog_fd, uint32_t egress) {
    forward_to(egress);
    return with_program(std::move(c), prog_fd, -1, 0);
  };
  reg("least_br_encap", [&h, &ns, least] {
    return least(br_encap_frames(ns, 1), bpf_program__fd(h.skel()->progs.least_br_encap), ns.v6);
  }, 10);
  reg("least_br_decap", [&h, &ns, least] {
    return least(br_decap_frames(ns, 1), bpf_program__fd(h.skel()->progs.least_br_decap), ns.v4);
  }, 10);
  reg("least_ce_out", [&h, &ns, least] {
    return least(ce_out_frames(ns, 1000), bpf_program__fd(h.skel()->progs.least_ce_out), ns.wan);
  }, 10);
  reg("least_ce_out_10k", [&h, &ns, least] {
    return least(ce_out_frames(ns, 10000), bpf_program__fd(h.skel()->progs.least_ce_out), ns.wan);
  }, 10);
  reg("least_ce_in", [&h, &ns, least] {
    return least(ce_in_frames(ns, 1000, 7920), bpf_program__fd(h.skel()->progs.least_ce_in), ns.lan);
  }, 10);
  register_primitives(h, ns, reg);
  for (unsigned rules : {1u, 1000u, 65536u}) {
    reg("br_encap/rules:" + std::to_string(rules), [&ns, br_for, rules] { return br_encap_case(ns, *br_for(rules), rules); }, 10);
    reg("br_decap/rules:" + std::to_string(rules), [&ns, br_for, rules] { return br_decap_case(ns, *br_for(rules), rules); }, 10);
  }

  // New state on a data plane of its own (sized for 2 M sessions).
  reg("ce_new_session", [&ns, ce_with] {
    Case c = ce_out_case(ns, *ce_with(0), 1u << 24);  // 16 M remotes: never revisited
    c.counter = MAPGW_CNT_NAT_SESSION_CREATED;
    c.continue_walk = true;
    return c;
  }, 10);
  reg("ce_new_binding", [&ns, ce_with] {
    // 200 new inside endpoints per iteration (the set has 240 ports), one
    // new host per iteration: every run claims a port. Flushed in between.
    Ce* fresh = ce_with(0);
    Case c = ce_out_case(ns, *fresh, 1);
    c.counter = MAPGW_CNT_NAT_BINDING_CREATED;
    c.fast = {{static_cast<uint32_t>(14 + 20), 0, 0}, 2, 20000, 1, 200};
    c.slow = {{static_cast<uint32_t>(14 + 12), 0, 0}, 4, (10u << 24), 1, 1u << 20};
    c.continue_walk = true;
    c.repeat = 200;
    CeDataplane* dp = &fresh->dp;
    c.between = [dp] {
      if (!flush_nat(dp->nat_maps())) die("flush");
    };
    return c;
  }, 200);

  for (uint32_t sessions : {1000u, 100000u, 1000000u}) {
    std::vector<uint32_t> actives{std::min<uint32_t>(sessions, 10000)};
    if (sessions > 10000) actives.push_back(sessions);
    for (uint32_t active : actives) {
      const std::string tag = "/sessions:" + std::to_string(sessions) + "/active:" + std::to_string(active);
      reg("ce_out" + tag, [&ns, ce_with, sessions, active] { return ce_out_case(ns, *ce_with(sessions), active); }, 10);
      reg("ce_in" + tag, [&ns, ce_with, sessions, active] { return ce_in_case(ns, *ce_with(sessions), active); }, 10);
    }
  }
}

}  // namespace
}  // namespace mapgw::bench

int main(int argc, char** argv) {
  using namespace mapgw::bench;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {
      quick = true;
      repeat_count = 20000;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  stay_on_one_cpu();
  mapgw::route_libbpf_logs(false);
  static Netns ns;
  static Harness h;
  register_all(h, ns);
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
