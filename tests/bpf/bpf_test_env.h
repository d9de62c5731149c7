// Shared set-up for tests that load programs into the running kernel: they
// need root (CAP_BPF/CAP_NET_ADMIN) and say so loudly instead of skipping.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include "loader/libbpf_log.h"

namespace mapgw::testing {

inline void require_root() {
  ASSERT_EQ(geteuid(), 0u) << "this test loads BPF programs and needs root "
                              "(CAP_BPF, CAP_NET_ADMIN); run it as root (scripts/test.sh)";
  route_libbpf_logs(false);
}

}  // namespace mapgw::testing
