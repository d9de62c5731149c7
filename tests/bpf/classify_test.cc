// mapgw_classify through BPF_PROG_TEST_RUN: every fixture (built by scapy)
// must pass unchanged and land in exactly one counter, the expected one.
#include <gtest/gtest.h>

#include <bpf/bpf.h>

#include "bpf_test_env.h"
#include "classify_fixtures.h"
#include "loader/counters.h"
#include "loader/skeleton.h"
#include "loader/test_run.h"
#include "mapgw_classify.skel.h"

namespace mapgw {
namespace {

MAPGW_SKELETON_TRAITS(mapgw_classify);

struct Case {
  const char* name;
  const std::vector<uint8_t>* packet;
  mapgw_counter expect;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Classify : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::require_root());
    auto s = Skeleton<mapgw_classify_traits>::open();
    ASSERT_TRUE(s.ok()) << s.error().describe();
    skel_.emplace(std::move(*s));
    auto st = skel_->load();
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }
  int prog_fd() { return bpf_program__fd(skel_->get()->progs.mapgw_classify); }
  int counters_fd() { return bpf_map__fd(skel_->get()->maps.mapgw_counters); }

  std::optional<Skeleton<mapgw_classify_traits>> skel_;
};

TEST_P(Classify, CountsExactlyOneClassAndPasses) {
  const auto& c = GetParam();
  auto before = read_counters(counters_fd());
  ASSERT_TRUE(before.ok()) << before.error().describe();
  auto r = test_run(prog_fd(), *c.packet);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->retval, static_cast<uint32_t>(XDP_PASS));
  EXPECT_EQ(r->data_out, *c.packet) << "the probe must not modify packets";
  auto after = read_counters(counters_fd());
  ASSERT_TRUE(after.ok());
  for (uint32_t i = 0; i < MAPGW_CNT_MAX; ++i) {
    uint64_t dp = (*after)[i].packets - (*before)[i].packets;
    uint64_t db = (*after)[i].bytes - (*before)[i].bytes;
    if (i == static_cast<uint32_t>(c.expect)) {
      EXPECT_EQ(dp, 1u) << "expected counter " << counter_label(i);
      EXPECT_EQ(db, c.packet->size());
    } else {
      EXPECT_EQ(dp, 0u) << "unexpected count in " << (counter_label(i) ? counter_label(i) : "?");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, Classify,
    ::testing::Values(
        Case{"ipv4_udp", &fixtures::ipv4_udp, MAPGW_CNT_RX_IPV4},
        Case{"ipv4_tcp_options", &fixtures::ipv4_tcp_options, MAPGW_CNT_RX_IPV4},
        Case{"ipv4_icmp_echo", &fixtures::ipv4_icmp_echo, MAPGW_CNT_RX_IPV4},
        Case{"vlan_ipv4_udp", &fixtures::vlan_ipv4_udp, MAPGW_CNT_RX_IPV4},
        Case{"qinq_ipv4_udp", &fixtures::qinq_ipv4_udp, MAPGW_CNT_RX_IPV4},
        Case{"ipv6_udp", &fixtures::ipv6_udp, MAPGW_CNT_RX_IPV6},
        Case{"ipv4_in_ipv6_udp", &fixtures::ipv4_in_ipv6_udp, MAPGW_CNT_RX_IPV4_IN_IPV6},
        Case{"arp", &fixtures::arp, MAPGW_CNT_RX_NON_IP},
        Case{"ipv4_truncated", &fixtures::ipv4_truncated, MAPGW_CNT_DROP_MALFORMED_IPV4},
        Case{"ipv4_ihl_4", &fixtures::ipv4_ihl_4, MAPGW_CNT_DROP_MALFORMED_IPV4},
        Case{"ipv4_options_past_end", &fixtures::ipv4_options_past_end,
             MAPGW_CNT_DROP_MALFORMED_IPV4},
        Case{"ipv4_tcp_truncated", &fixtures::ipv4_tcp_truncated, MAPGW_CNT_DROP_MALFORMED_L4},
        Case{"ipv6_truncated", &fixtures::ipv6_truncated, MAPGW_CNT_DROP_MALFORMED_IPV6},
        Case{"ipv4_in_ipv6_inner_truncated", &fixtures::ipv4_in_ipv6_inner_truncated,
             MAPGW_CNT_DROP_MALFORMED_IPV4},
        Case{"vlan_truncated", &fixtures::vlan_truncated, MAPGW_CNT_DROP_MALFORMED_L2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ClassifyLoad, CounterLabelsAreStable) {
  // The labels are metric names: renaming one breaks dashboards.
  EXPECT_STREQ(counter_label(MAPGW_CNT_RX_IPV4), "rx_ipv4");
  EXPECT_STREQ(counter_label(MAPGW_CNT_RX_IPV4_IN_IPV6), "rx_ipv4_in_ipv6");
  EXPECT_STREQ(counter_label(MAPGW_CNT_DROP_MALFORMED_L4), "drop_malformed_l4");
  EXPECT_EQ(counter_label(MAPGW_CNT_MAX - 1), nullptr);
}

}  // namespace
}  // namespace mapgw
