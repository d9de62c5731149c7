// Kernel support against the running kernel: a verifier rejection comes
// back as one error with the whole log in a file, the jiffies-based HZ
// measurement agrees with the kernel's config, the requirements probe finds
// nothing missing on a supported kernel, pinned maps that differ are named,
// and mapgw --check-kernel reports every program of both roles.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "bpf_test_env.h"
#include "loader/ce_dataplane.h"
#include "loader/kernel_features.h"
#include "loader/kernel_hz.h"
#include "loader/pinning.h"
#include "loader/skeleton.h"
#include "mapgw_test_reject.skel.h"

namespace mapgw {
namespace {

MAPGW_SKELETON_TRAITS(mapgw_test_reject);

TEST(VerifierRejection, NamesTheProgramAndKeepsTheWholeLog) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  auto skel = Skeleton<mapgw_test_reject_traits>::open();
  ASSERT_TRUE(skel.ok()) << skel.error().describe();
  auto st = skel->load();
  ASSERT_FALSE(st.ok());
  const std::string msg = st.error().describe();
  RecordProperty("message", msg);  // in --gtest_output=xml: what an operator reads
  EXPECT_NE(msg.find("verifier rejected BPF program mapgw_test_reject"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid access to packet"), std::string::npos) << msg;
  std::smatch m;
  const std::regex path_re("full log: (\\S+\\.log)");
  ASSERT_TRUE(std::regex_search(msg, m, path_re)) << msg;
  std::ifstream f(m[1].str());
  std::stringstream log;
  log << f.rdbuf();
  EXPECT_NE(log.str().find("invalid access to packet"), std::string::npos);
  EXPECT_NE(log.str().find("processed"), std::string::npos);
  std::remove(m[1].str().c_str());
}

// Pinned maps from an earlier run: reused when this load asks for the same
// maps, and named (map, field, both values) when it does not.
TEST(PinnedMaps, TheSameConfigurationReusesThemAnotherIsNamed) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  char fs[] = "/tmp/mapgw-pins-XXXXXX";
  ASSERT_NE(mkdtemp(fs), nullptr);
  ASSERT_EQ(mount("bpf", fs, "bpf", 0, nullptr), 0) << std::strerror(errno);
  auto pins = pin_dir(fs, "t");
  ASSERT_TRUE(pins.ok()) << pins.error().describe();
  constexpr uint64_t kFrag = 5'000'000'000ULL;
  {
    auto first = CeDataplane::load(16384, 240, kFrag, *pins);
    ASSERT_TRUE(first.ok()) << first.error().describe();
  }
  {
    auto same = CeDataplane::load(16384, 240, kFrag, *pins);
    EXPECT_TRUE(same.ok()) << same.error().describe();
  }
  auto bigger = CeDataplane::load(32768, 240, kFrag, *pins);
  ASSERT_FALSE(bigger.ok());
  const std::string msg = bigger.error().describe();
  RecordProperty("message", msg);
  EXPECT_NE(msg.find("mapgw_nat_sessions max_entries 16384 pinned, 32768 wanted"), std::string::npos) << msg;
  EXPECT_NE(msg.find("remove that directory"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("verifier"), std::string::npos) << msg;
  remove_pins(*pins);
  umount2(fs, MNT_DETACH);
  rmdir(fs);
}

TEST(KernelHz, MeasuredAgreesWithTheKernelConfig) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  const auto configured = kernel_config_hz();
  ASSERT_TRUE(configured.has_value())
      << "no kernel config to compare with (/boot/config-$(uname -r) or /proc/config.gz)";
  auto measured = measure_kernel_hz();
  ASSERT_TRUE(measured.ok()) << measured.error().describe();
  EXPECT_EQ(*measured, *configured);
}

TEST(KernelFeatures, NothingMissingOnASupportedKernel) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  const auto missing = missing_kernel_requirements();
  EXPECT_TRUE(missing.empty()) << describe_missing(kernel_release(), missing);
  EXPECT_TRUE(kernel_adaptations().ok());
}

TEST(CheckKernel, EveryProgramOfBothRolesLoads) {
  ASSERT_NO_FATAL_FAILURE(testing::require_root());
  FILE* p = popen(MAPGW_BINARY " --check-kernel --json", "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(status, 0) << out;
  EXPECT_TRUE(j["ok"].get<bool>()) << out;
  std::set<std::string> names;
  for (const auto& prog : j["programs"]) {
    names.insert(prog["program"].get<std::string>());
    EXPECT_GT(prog["processed_insns"].get<uint32_t>(), 0u) << prog.dump();
    EXPECT_GT(prog["xlated_insns"].get<uint32_t>(), 0u) << prog.dump();
  }
  const std::set<std::string> all{"mapgw_ce_lan",      "mapgw_ce_wan",      "mapgw_ce_wanfan",
                                  "mapgw_ce_wancpu",   "mapgw_ce_qdrops",   "mapgw_ce_tc_wan",
                                  "mapgw_ce_tc_encap", "mapgw_br_v4",       "mapgw_br_v6",
                                  "mapgw_br_v6fan",    "mapgw_br_v6cpu",    "mapgw_br_qdrops",
                                  "mapgw_br_tc_v6",    "mapgw_br_tc_encap"};
  EXPECT_EQ(names, all);
}

}  // namespace
}  // namespace mapgw
