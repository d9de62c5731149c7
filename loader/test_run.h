// BPF_PROG_TEST_RUN: run a loaded program once on a packet and get the
// verdict and the packet it produced. repeat is always 1: the kernel does
// not restore the packet between repetitions (SPEC.md §7), so a larger
// repeat would run later iterations on already-rewritten data.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loader/result.h"

namespace mapgw {

struct TestRunResult {
  uint32_t retval = 0;             // XDP_* / TC_ACT_* verdict
  std::vector<uint8_t> data_out;   // the packet after the program ran
  uint32_t duration_ns = 0;
};

Result<TestRunResult> test_run(int prog_fd, std::span<const uint8_t> packet);

// XDP program run as if received on @ingress_ifindex (so bpf_fib_lookup and
// devmap redirects see a real device of the current netns).
Result<TestRunResult> test_run_xdp(int prog_fd, std::span<const uint8_t> packet,
                                   unsigned ingress_ifindex);

}  // namespace mapgw
