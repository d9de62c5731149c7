#include "loader/test_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>

namespace mapgw {

namespace {

Result<TestRunResult> run(int prog_fd, std::span<const uint8_t> packet, void* ctx,
                          uint32_t ctx_size) {
  TestRunResult r;
  // Room for encapsulation growth (XDP head adjustments add headroom only,
  // but TC programs may grow the tail).
  r.data_out.resize(packet.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
              .data_out = r.data_out.data(), .data_size_in = static_cast<uint32_t>(packet.size()),
              .data_size_out = static_cast<uint32_t>(r.data_out.size()), .ctx_in = ctx,
              .ctx_size_in = ctx_size, .repeat = 1);
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  if (err) return make_error("BPF_PROG_TEST_RUN", errno ? errno : -err);
  r.retval = opts.retval;
  r.duration_ns = opts.duration;
  r.data_out.resize(opts.data_size_out);
  return r;
}

}  // namespace

Result<TestRunResult> test_run(int prog_fd, std::span<const uint8_t> packet) {
  return run(prog_fd, packet, nullptr, 0);
}

Result<TestRunResult> test_run_xdp(int prog_fd, std::span<const uint8_t> packet,
                                   unsigned ingress_ifindex) {
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(packet.size());
  ctx.ingress_ifindex = ingress_ifindex;
  return run(prog_fd, packet, &ctx, sizeof(ctx));
}

}  // namespace mapgw
