#include "loader/test_run.h"

#include <bpf/bpf.h>

#include <cerrno>

namespace mapgw {

Result<TestRunResult> test_run(int prog_fd, std::span<const uint8_t> packet) {
  TestRunResult r;
  // Room for encapsulation growth (XDP head adjustments add headroom only,
  // but TC programs may grow the tail).
  r.data_out.resize(packet.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
              .data_out = r.data_out.data(), .data_size_in = static_cast<uint32_t>(packet.size()),
              .data_size_out = static_cast<uint32_t>(r.data_out.size()), .repeat = 1);
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  if (err) return make_error("BPF_PROG_TEST_RUN", errno ? errno : -err);
  r.retval = opts.retval;
  r.duration_ns = opts.duration;
  r.data_out.resize(opts.data_size_out);
  return r;
}

}  // namespace mapgw
