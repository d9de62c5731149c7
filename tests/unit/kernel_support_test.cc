// The pure parts of kernel support: HZ rounding, reading the verifier's
// statistics and the tail of its log, and the one-line "what is missing".
#include <gtest/gtest.h>

#include "loader/kernel_features.h"
#include "loader/kernel_hz.h"
#include "loader/verifier_log.h"

namespace mapgw {
namespace {

TEST(KernelHz, MeasuredRatesRoundToTheKconfigChoices) {
  EXPECT_EQ(nearest_kernel_hz(99.0), 100u);
  EXPECT_EQ(nearest_kernel_hz(241.7), 250u);
  EXPECT_EQ(nearest_kernel_hz(266.0), 250u);
  EXPECT_EQ(nearest_kernel_hz(291.0), 300u);
  EXPECT_EQ(nearest_kernel_hz(958.3), 1000u);
  EXPECT_EQ(nearest_kernel_hz(0.0), 100u);
}

// A BPF_LOG_STATS log as 6.1 writes it.
constexpr const char* kStatsLog =
    "verification time 2661347 usec\n"
    "stack depth 192+64+224+32\n"
    "processed 360701 insns (limit 1000000) max_states_per_insn 67 total_states 15882 "
    "peak_states 2422 mark_read 48\n";

TEST(VerifierLog, StatisticsAreRead) {
  ProgramStats s;
  ASSERT_TRUE(parse_verifier_stats(kStatsLog, s));
  EXPECT_EQ(s.verify_us, 2661347u);
  EXPECT_EQ(s.processed_insns, 360701u);
}

TEST(VerifierLog, NoStatisticsInAnEmptyLog) {
  ProgramStats s;
  EXPECT_FALSE(parse_verifier_stats("", s));
  EXPECT_EQ(s.processed_insns, 0u);
}

TEST(VerifierLog, TailKeepsTheLastNonEmptyLines) {
  const std::string log =
      "0: (61) r2 = *(u32 *)(r1 +4)\n\n"
      "; __u32 len = bpf_ntohs(ip->tot_len);\n"
      "44: (0f) r1 += r3\n"
      "math between pkt pointer and register with unbounded min value is not allowed\n"
      "processed 45 insns (limit 1000000)\n";
  EXPECT_EQ(verifier_log_tail(log, 2),
            "math between pkt pointer and register with unbounded min value is not allowed | "
            "processed 45 insns (limit 1000000)");
  EXPECT_EQ(verifier_log_tail(log, 10).substr(0, 30), "0: (61) r2 = *(u32 *)(r1 +4) |");
  EXPECT_EQ(verifier_log_tail("", 3), "");
}

TEST(KernelFeatures, MissingRequirementsInOneLine) {
  const std::string line =
      describe_missing("5.15.0-91-generic", {{"bpf_loop()", "5.17"}, {"bpf_xdp_get_buff_len()", "5.18"}});
  EXPECT_EQ(line,
            "this kernel (5.15.0-91-generic) lacks what mapgw needs: bpf_loop() (Linux 5.17), "
            "bpf_xdp_get_buff_len() (Linux 5.18); the oldest kernel mapgw supports is 6.1 (Debian 12)");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace mapgw
