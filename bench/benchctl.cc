// benchctl: the benchmark's own tool (not part of mapgw).
//   benchctl attach PROG IFNAME --pin PATH [--out IFNAME --dmac MAC --smac MAC]
//       attach bench_{sink,fwd,pass} through a link pinned at PATH (and its
//       packet counter at PATH_count); stays attached after benchctl exits
//   benchctl count PATH_count      packets counted so far (sum over CPUs)
//   benchctl gen IFNAME --template HEX --packets N [--walk SPEC [--walk SPEC]]
//       [--start N] [--cpu C]
//       BPF_PROG_RUN with live frames: N copies of the frame leave IFNAME
//       (XDP_TX), header fields walked over the flows; where the kernel
//       refuses live frames, the same frames through an AF_PACKET socket
//       (packet_socket_gen.h); prints {"packets","seconds","pps","generator"}. SPEC = OFFSET[,OFFSET[,OFFSET]]:WIDTH:BASE:STRIDE:COUNT
//       (byte offsets in the frame, width 2 or 4, big-endian); the first
//       walk moves fastest. --start: the first packet's flow number.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "agent/map/dhcpv6_mape.h"
#include "loader/libbpf_log.h"
#include "cost_abi.h"
#include "frames.h"
#include "loader/skeleton.h"
#include "mapgw_bench.skel.h"
#include "packet_socket_gen.h"

namespace {

MAPGW_SKELETON_TRAITS(mapgw_bench);
using BenchSkel = mapgw::Skeleton<mapgw_bench_traits>;

int fail(const std::string& msg) {
  std::fprintf(stderr, "benchctl: %s\n", msg.c_str());
  return 1;
}

bool parse_mac(const std::string& s, volatile uint8_t* out) {
  unsigned b[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(b[i]);
  return true;
}

int attach(const std::string& prog, const std::string& ifname, const std::string& pin,
           const std::string& out, const std::string& dmac, const std::string& smac) {
  auto skel = BenchSkel::open();
  if (!skel) return fail(skel.error().describe());
  if (!dmac.empty() && (!parse_mac(dmac, skel->get()->rodata->fwd_dmac) ||
                        !parse_mac(smac, skel->get()->rodata->fwd_smac))) {
    return fail("bad MAC");
  }
  if (auto st = skel->load(); !st) return fail(st.error().describe());
  bpf_program* p = bpf_object__find_program_by_name(skel->get()->obj, prog.c_str());
  if (!p) return fail("no program " + prog);
  if (!out.empty()) {
    uint32_t key = 0, ifi = if_nametoindex(out.c_str());
    if (!ifi || bpf_map_update_elem(bpf_map__fd(skel->get()->maps.bench_out), &key, &ifi, 0)) {
      return fail("devmap: " + out);
    }
  }
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  opts.flags = XDP_FLAGS_DRV_MODE;
  int link = bpf_link_create(bpf_program__fd(p), static_cast<int>(if_nametoindex(ifname.c_str())),
                             BPF_XDP, &opts);
  if (link < 0) return fail("attaching to " + ifname + ": " + std::strerror(errno));
  if (bpf_obj_pin(link, pin.c_str()) ||
      bpf_obj_pin(bpf_map__fd(skel->get()->maps.bench_count), (pin + "_count").c_str())) {
    return fail("pinning at " + pin + ": " + std::strerror(errno));
  }
  return 0;
}

int count(const std::string& pin) {
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return fail("no counter at " + pin);
  std::vector<uint64_t> v(static_cast<size_t>(libbpf_num_possible_cpus()));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(fd, &key, v.data())) return fail("reading " + pin);
  uint64_t sum = 0;
  for (auto x : v) sum += x;
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}

bool parse_walk(const std::string& spec, field_walk& w) {
  unsigned o[3] = {0, 0, 0}, width, base, stride, count;
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return false;
  const std::string offs = spec.substr(0, colon);
  if (std::sscanf(offs.c_str(), "%u,%u,%u", &o[0], &o[1], &o[2]) < 1) return false;
  if (std::sscanf(spec.c_str() + colon + 1, "%u:%u:%u:%u", &width, &base, &stride, &count) != 4) {
    return false;
  }
  if ((width != 2 && width != 4) || count == 0) return false;
  for (int i = 0; i < 3; ++i) {
    if (o[i] >= 128 - width) return false;
    w.offset[i] = o[i];
  }
  w.width = width;
  w.base = base;
  w.stride = stride;
  w.count = count;
  return true;
}

void print_report(uint64_t packets, double s, const char* generator) {
  std::printf("{\"packets\": %llu, \"seconds\": %.4f, \"pps\": %.0f, \"generator\": \"%s\"}\n",
              static_cast<unsigned long long>(packets), s, packets / s, generator);
}

// Live frames first; where the kernel refuses them (EPERM on this VM's 6.18,
// EINVAL before 5.18), the packet-socket generator sends the same frames.
int gen(const std::string& ifname, const std::string& hex, uint64_t packets,
        const std::vector<std::string>& walks, uint64_t start, int cpu) {
  auto frame = mapgw::parse_hex(hex);
  if (!frame || frame->size() < 64) return fail("bad template (at least 64 bytes)");
  if (walks.size() > 2) return fail("at most two --walk");
  field_walk parsed[2] = {};
  for (size_t i = 0; i < walks.size(); ++i) {
    if (!parse_walk(walks[i], parsed[i])) return fail("bad --walk " + walks[i]);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) return fail("pinning to CPU");
  auto skel = BenchSkel::open();
  if (!skel) return fail(skel.error().describe());
  skel->get()->data_tmpl->walk_fast = parsed[0];
  skel->get()->data_tmpl->walk_slow = parsed[1];
  skel->get()->data_tmpl->ipv4_at = mapgw::bench::ipv4_header_offset(*frame);
  skel->get()->rodata->tmpl_len = static_cast<uint32_t>(frame->size());
  auto* tmpl = skel->get()->data_tmpl->tmpl;
  std::memcpy(tmpl, frame->data(), std::min(frame->size(), sizeof skel->get()->data_tmpl->tmpl));
  if (auto st = skel->load(); !st) return fail(st.error().describe());
  const uint32_t zero = 0;
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> first(static_cast<size_t>(ncpu), 0);
  first[static_cast<size_t>(cpu)] = start;  // the generator runs on @cpu only
  if (bpf_map_update_elem(bpf_map__fd(skel->get()->maps.bench_count), &zero, first.data(), 0)) {
    return fail("setting the first flow");
  }
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame->size());
  ctx.ingress_ifindex = if_nametoindex(ifname.c_str());
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame->data(),
              .data_size_in = static_cast<uint32_t>(frame->size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof ctx, .repeat = 1, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
              .batch_size = 64);
  // One long call per chunk: each call has tens of ms of set-up.
  const uint64_t chunk = 50'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t done = 0; done < packets;) {
    opts.repeat = static_cast<uint32_t>(std::min(chunk, packets - done));
    if (bpf_prog_test_run_opts(bpf_program__fd(skel->get()->progs.bench_gen), &opts)) {
      const int err = errno;
      if (done == 0 && (err == EPERM || err == EINVAL || err == EOPNOTSUPP)) {
        std::fprintf(stderr, "benchctl: live frames refused (%s): packet-socket generator\n",
                     std::strerror(err));
        auto r = mapgw::bench::send_with_packet_socket(ifname, *frame, parsed[0], parsed[1], packets, start);
        if (!r) return fail(r.error().describe());
        print_report(r->packets, r->seconds, "packet_socket");
        return 0;
      }
      return fail(std::string("BPF_PROG_RUN: ") + std::strerror(err));
    }
    done += opts.repeat;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_report(packets, s, "live_frames");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mapgw::route_libbpf_logs(false);
  CLI::App app{"benchctl - benchmark helper"};
  app.require_subcommand(1);
  std::string prog, ifname, pin, out, dmac, smac, hex;
  uint64_t packets = 1'000'000, start = 0;
  std::vector<std::string> walks;
  int cpu = 0;
  auto* a = app.add_subcommand("attach", "attach a bench program (pinned link)");
  a->add_option("prog", prog)->required();
  a->add_option("ifname", ifname)->required();
  a->add_option("--pin", pin)->required();
  a->add_option("--out", out);
  a->add_option("--dmac", dmac);
  a->add_option("--smac", smac);
  auto* c = app.add_subcommand("count", "read a pinned counter");
  c->add_option("pin", pin)->required();
  auto* g = app.add_subcommand("gen", "generate traffic with live frames");
  g->add_option("ifname", ifname)->required();
  g->add_option("--template", hex)->required();
  g->add_option("--packets", packets);
  g->add_option("--walk", walks);
  g->add_option("--start", start);
  g->add_option("--cpu", cpu);
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand(a)) return attach(prog, ifname, pin, out, dmac, smac);
  if (app.got_subcommand(c)) return count(pin);
  return gen(ifname, hex, packets, walks, start, cpu);
}
