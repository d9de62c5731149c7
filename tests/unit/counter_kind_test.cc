// How data-plane counters are grouped in the metrics (kind label): only
// packets the gateway forwarded may count as kind="forward", which the
// dashboard's throughput panels sum.
#include <gtest/gtest.h>

#include <string>

#include "agent/daemon/metrics.h"
#include "loader/counters.h"
#include "mapgw_abi.h"

namespace mapgw {
namespace {

TEST(CounterKind, EventsAreNotForwardedPackets) {
  EXPECT_STREQ(counter_kind("flow_cache_fills"), "cache");
  EXPECT_STREQ(counter_kind("natlog_events"), "log");
  EXPECT_STREQ(counter_kind("natlog_lost"), "log");
  EXPECT_STREQ(counter_kind("drop_wrong_psid"), "drop");
  EXPECT_STREQ(counter_kind("ce_out"), "forward");
  EXPECT_STREQ(counter_kind("br_encap"), "forward");
  EXPECT_STREQ(counter_kind("spread_handoff"), "spread");
  EXPECT_STREQ(counter_kind("drop_spread_queue_full"), "drop");
}

TEST(CounterKind, EveryCounterHasAKind) {
  unsigned forward = 0;
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    const char* label = counter_label(i);
    if (!label) continue;
    const std::string kind = counter_kind(label);
    EXPECT_FALSE(kind.empty()) << label;
    forward += kind == "forward";
  }
  EXPECT_GT(forward, 0u);
  EXPECT_STREQ(counter_kind(counter_label(MAPGW_CNT_FLOW_CACHE_FILL)), "cache");
}

}  // namespace
}  // namespace mapgw
