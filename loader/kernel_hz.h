// The kernel's tick rate (CONFIG_HZ). The data plane ages its caches in
// jiffies (bpf_jiffies64() is inlined into one load; a clock helper costs
// ~13 ns a packet) and needs HZ to turn seconds into ticks. It is a
// `const volatile` the loader sets, not a `__kconfig` extern: libbpf fails
// the whole load when it finds no kernel config (containers, some distros).
//
// Sources, first found wins: /boot/config-$(uname -r), /proc/config.gz, and
// else a measurement of jiffies against the monotonic clock over 120 ms,
// rounded to the nearest value Kconfig offers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "loader/result.h"

namespace mapgw {

struct KernelHz {
  uint32_t hz = 0;
  std::string_view source;  // "kernel config" or "measured"
};

// Found once per process, then cached.
Result<KernelHz> kernel_hz();

// The two sources on their own (for tests and the start-up report).
std::optional<uint32_t> kernel_config_hz();
Result<uint32_t> measure_kernel_hz();

// The Kconfig HZ choice (100, 250, 300, 1000) nearest to a measured rate.
uint32_t nearest_kernel_hz(double ticks_per_second);

}  // namespace mapgw
