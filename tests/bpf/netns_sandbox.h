// Moves the test process into a fresh network namespace and builds small
// topologies in it with iproute2, so BPF tests get a real FIB and real
// neighbours without touching the machine's own network. The namespace dies
// with the process; nothing needs tearing down.
#pragma once

#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace mapgw::testing {

inline void run(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(rc, 0) << "command failed: " << cmd;
}

inline void write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream f("/proc/sys/" + path);
  f << value;
  ASSERT_TRUE(f.good()) << "cannot write /proc/sys/" << path;
}

inline void enter_private_netns() {
  static bool done = false;
  if (done) return;
  ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) needs root";
  run("ip link set lo up");
  done = true;
}

}  // namespace mapgw::testing
