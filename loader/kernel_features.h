// What the running kernel offers the data plane, asked at start-up.
//
// Requirements: the program and map types and the helpers our programs
// call. A kernel without one cannot load them; the daemon says in one line
// what is missing instead of leaving a reader to decode a verifier log.
// The newest of them, bpf_xdp_get_buff_len(), came in Linux 5.18; the oldest
// kernel we test and support is Debian 12's 6.1 (README "Kernels").
//
// Adaptations: features newer than 6.1 that the programs use when the
// kernel has them and replace when it does not (set as rodata before load).
#pragma once

#include <string>
#include <vector>

#include "loader/kernel_hz.h"
#include "loader/result.h"

namespace mapgw {

struct KernelRequirement {
  std::string name;   // "bpf_loop()", "BPF_MAP_TYPE_RINGBUF"
  std::string since;  // the Linux version that brought it
};

// The requirements this kernel lacks (none: empty). Each is probed by
// loading a minimal program or creating a minimal map (libbpf_probe_*).
std::vector<KernelRequirement> missing_kernel_requirements();

// "this kernel (5.15.0-91-generic) lacks what mapgw needs: bpf_loop() (5.17),
// ...; the oldest kernel mapgw supports is 6.1 (Debian 12)".
std::string describe_missing(const std::string& release, const std::vector<KernelRequirement>& missing);

struct KernelAdaptations {
  bool fib_skip_neigh = false;  // BPF_FIB_LOOKUP_SKIP_NEIGH (6.3)
};

// Probed once per process, then cached: a tiny XDP program asks
// bpf_fib_lookup() with the flag and an unknown family; a kernel that knows
// the flag answers -EAFNOSUPPORT, an older one -EINVAL.
Result<KernelAdaptations> kernel_adaptations();

// Tests: kernel_adaptations() then answers as a kernel without any of the
// newer features would, whatever this one has, so the fallbacks run here.
void pretend_old_kernel(bool on);
bool kernel_pretends_old();

// uname -r
std::string kernel_release();

// Sets what a skeleton's rodata takes from the running kernel
// (bpf/route_cache.h: kernel_hz, kernel_fib_skip_neigh) before load.
template <typename Rodata>
Status set_kernel_rodata(Rodata* rodata) {
  auto hz = kernel_hz();
  if (!hz) return make_error("finding the kernel's HZ: " + hz.error().describe());
  auto a = kernel_adaptations();
  if (!a) return make_error("probing the kernel: " + a.error().describe());
  rodata->kernel_hz = hz->hz;
  rodata->kernel_fib_skip_neigh = a->fib_skip_neigh;
  return Status::Ok();
}

}  // namespace mapgw
