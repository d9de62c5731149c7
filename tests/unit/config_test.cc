// Configuration parsing: the example config is valid, and every kind of
// mistake is rejected with the place and the reason.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/config/config.h"
#include "agent/config/cpu_list.h"

namespace mapgw {
namespace {

const char* kMinimal = R"(
role = "br"
[br]
ipv4_interface = "eth0"
ipv6_interface = "eth1"
[[br.domain]]
name = "d1"
br_address = "2001:db8:ffff::1"
legacy_iid = true
rules = [
  "ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16",
  { rule = "ipv6=2001:db8:100::/40,ipv4=198.51.100.0/24,ea=8", legacy_iid = false },
]
)";

TEST(Config, MinimalBrWithDefaults) {
  auto c = parse_config(kMinimal, "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->instance, "default");
  EXPECT_EQ(c->socket_path, "/run/mapgw/default.sock");
  EXPECT_EQ(c->xdp_mode, "native");
  EXPECT_EQ(c->br.slow_path_interface, "mapgw0");
  EXPECT_EQ(c->br.fragment_timeout_s, 5u);
  EXPECT_TRUE(c->route_cache);
  EXPECT_EQ(c->flow_cache_sets, 32768u);
  ASSERT_EQ(c->br.domains.size(), 1u);
  const auto& d = c->br.domains[0];
  EXPECT_EQ(d.br_address.str(), "2001:db8:ffff::1");
  ASSERT_EQ(d.rules.size(), 2u);
  EXPECT_TRUE(d.rules[0].legacy_iid());   // inherits the domain's layout
  EXPECT_FALSE(d.rules[1].legacy_iid());  // overridden per rule
  EXPECT_EQ(c->all_rules().rules().size(), 2u);
}

TEST(Config, RouteCacheCanBeTurnedOff) {
  auto c = parse_config(std::string("route_cache = false\n") + kMinimal, "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->route_cache);
}

TEST(Config, FlowCacheSetsAreSized) {
  auto c = parse_config(std::string("flow_cache_sets = 1024\n") + kMinimal, "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->flow_cache_sets, 1024u);
}

TEST(Config, SpreadCpusOffByDefaultAllOrAList) {
  EXPECT_EQ(parse_config(kMinimal, "t.toml")->br.spread_cpus, "");
  for (const char* v : {"all", "0-3,6", "1"}) {
    std::string text = kMinimal;
    text.replace(text.find("ipv6_interface"), 0, std::string("spread_cpus = \"") + v + "\"\n");
    auto c = parse_config(text, "t.toml");
    ASSERT_TRUE(c.ok()) << v << ": " << c.error().message;
    EXPECT_EQ(c->br.spread_cpus, v);
  }
}

TEST(CpuList, KernelFormat) {
  EXPECT_EQ(*parse_cpu_list("0-3,6", "x"), (std::vector<uint32_t>{0, 1, 2, 3, 6}));
  EXPECT_EQ(*parse_cpu_list("5\n", "x"), (std::vector<uint32_t>{5}));
  for (const char* bad : {"", "-1", "1-", "a", "1,,2", "2-1", "70000"}) {
    EXPECT_FALSE(parse_cpu_list(bad, "x").ok()) << bad;
  }
  auto online = online_cpus();
  ASSERT_TRUE(online.ok()) << online.error().describe();
  EXPECT_FALSE(online->empty());
  EXPECT_TRUE(check_cpus_online(*online, 256, "x").ok());
  EXPECT_FALSE(check_cpus_online(std::vector<uint32_t>{0, 0}, 256, "x").ok());
  EXPECT_FALSE(check_cpus_online(std::vector<uint32_t>{65535}, 256, "x").ok());
  EXPECT_FALSE(check_cpus_online(*online, 0, "x").ok());
}

TEST(Config, TheShippedExampleIsValid) {
  std::ifstream f(std::string(MAPGW_SOURCE_DIR) + "/examples/br.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  auto c = parse_config(ss.str(), "examples/br.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->br.domains.size(), 2u);
}

struct Bad {
  const char* name;
  std::string from, to;  // textual edit applied to kMinimal
  const char* message_part;
};

void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }

class ConfigRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(ConfigRejects, WithPlaceAndReason) {
  std::string text = kMinimal;
  const auto& b = GetParam();
  auto pos = text.find(b.from);
  ASSERT_NE(pos, std::string::npos) << b.from;
  text.replace(pos, b.from.size(), b.to);
  auto c = parse_config(text, "t.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << text;
  EXPECT_NE(c.error().message.find(b.message_part), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.rfind("t.toml", 0), 0u) << "message must start with the file";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigRejects,
    ::testing::Values(
        Bad{"toml_syntax", "role = \"br\"", "role = br\"", "t.toml:2"},
        Bad{"unknown_top_key", "role = \"br\"", "role = \"br\"\nrol = 1", "unknown key 'rol'"},
        Bad{"unknown_br_key", "ipv4_interface", "ipv4_iface", "unknown key 'ipv4_iface'"},
        Bad{"wrong_role", "role = \"br\"", "role = \"router\"", "not a role"},
        Bad{"no_role", "role = \"br\"", "", "needs 'role'"},
        Bad{"same_interfaces", "\"eth1\"", "\"eth0\"", "must differ"},
        Bad{"bad_rule", "ea=16", "ea=49", "domain d1 rule 1: ea=49"},
        Bad{"bad_rule_location", "ea=16", "ea=49", "t.toml:11:"},
        Bad{"bad_br_address", "2001:db8:ffff::1", "2001:db8:ffff::1::2", "br_address"},
        Bad{"empty_rules", "rules = [", "rules = []\nx = [", "unknown key 'x'"},
        Bad{"no_domain", "[[br.domain]]", "[other]", "unknown key 'other'"},
        Bad{"rule_wrong_type", "\"ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16\",", "42,",
            "must be a rule string"},
        Bad{"ambiguous_rules", "198.51.100.0/24", "192.0.2.0/24", "share the IPv4 prefix"},
        Bad{"xdp_mode", "role = \"br\"", "role = \"br\"\nxdp_mode = \"turbo\"", "xdp_mode"},
        Bad{"fragment_timeout", "ipv6_interface = \"eth1\"",
            "ipv6_interface = \"eth1\"\nfragment_timeout = 0", "fragment_timeout must be"},
        Bad{"icmp_source", "ipv6_interface = \"eth1\"",
            "ipv6_interface = \"eth1\"\nicmp_source = \"1.2.3\"", "icmp_source"},
        Bad{"instance_slash", "role = \"br\"", "role = \"br\"\ninstance = \"a/b\"", "instance"},
        Bad{"route_cache_type", "role = \"br\"", "role = \"br\"\nroute_cache = \"yes\"", "route_cache"},
        Bad{"flow_cache_not_power_of_two", "role = \"br\"", "role = \"br\"\nflow_cache_sets = 1000",
            "flow_cache_sets must be a power of two"},
        Bad{"flow_cache_too_small", "role = \"br\"", "role = \"br\"\nflow_cache_sets = 128",
            "flow_cache_sets must be"},
        Bad{"spread_cpus_word", "ipv6_interface = \"eth1\"",
            "ipv6_interface = \"eth1\"\nspread_cpus = \"most\"", "spread_cpus: \"most\" is not a CPU"},
        Bad{"spread_cpus_backwards", "ipv6_interface = \"eth1\"",
            "ipv6_interface = \"eth1\"\nspread_cpus = \"3-1\"", "runs backwards"},
        Bad{"spread_cpus_type", "ipv6_interface = \"eth1\"",
            "ipv6_interface = \"eth1\"\nspread_cpus = [0, 1]", "'spread_cpus' in [br] has the wrong type"}),
    [](const auto& info) { return std::string(info.param.name); });

const char* kCe = R"(
role = "ce"
[ce]
wan_interface = "wan0"
lan_interface = "lan0"
end_user_prefix = "240b:10:abcd:ef00::/56"
br_address = "2001:db8:ffff::1"
legacy_iid = true
rules = ["ipv6=240b:10::/31,ipv4=106.72.0.0/15,ea=25,offset=4,fmr"]
[ce.timeouts]
udp = 300
[[ce.static_napt]]
protocol = "tcp"
external_port = 7935
internal = "192.168.1.10:80"
[[ce.filter]]
action = "deny"
protocol = "tcp"
ports = "25"
)";

TEST(ConfigCe, SpreadCpus) {
  EXPECT_EQ(parse_config(kCe, "ce.toml")->ce.spread_cpus, "");
  std::string text = kCe;
  text.replace(text.find("legacy_iid"), 0, "spread_cpus = \"0-1\"\n");
  auto c = parse_config(text, "ce.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ce.spread_cpus, "0-1");
  text.replace(text.find("0-1"), 3, "one");
  auto bad = parse_config(text, "ce.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("[ce] spread_cpus: \"one\" is not a CPU number"), std::string::npos)
      << bad.error().message;
}

TEST(ConfigCe, HostPortShare) {
  EXPECT_EQ(parse_config(kCe, "ce.toml")->ce.host_port_share, 85u) << "the default leaves 15 % to the others";
  for (const char* v : {"100", "1"}) {
    std::string text = kCe;
    text.replace(text.find("legacy_iid"), 0, std::string("host_port_share = ") + v + "\n");
    auto c = parse_config(text, "ce.toml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->ce.host_port_share, static_cast<unsigned>(std::stoi(v)));
  }
  for (const char* v : {"0", "101", "\"half\""}) {
    std::string text = kCe;
    text.replace(text.find("legacy_iid"), 0, std::string("host_port_share = ") + v + "\n");
    EXPECT_FALSE(parse_config(text, "ce.toml").ok()) << v;
  }
}

TEST(ConfigCe, ParsesWithDefaults) {
  auto c = parse_config(kCe, "ce.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->role, Role::kCe);
  EXPECT_EQ(c->ce.filtering, Filtering::kEndpointIndependent);
  EXPECT_EQ(c->ce.timeouts.tcp_established_s, 7440u);
  ASSERT_EQ(c->ce.rules.size(), 1u);
  EXPECT_TRUE(c->ce.rules[0].legacy_iid());
  EXPECT_TRUE(c->ce.rules[0].fmr());
  ASSERT_EQ(c->ce.static_napt.size(), 1u);
  EXPECT_EQ(c->ce.static_napt[0].internal.str(), "192.168.1.10:80");
  ASSERT_EQ(c->ce.filter.size(), 1u);
  EXPECT_EQ(c->ce.filter[0].port_lo, 25);
  EXPECT_EQ(c->ce.ipv4_routes.size(), 1u);
}

TEST(ConfigCe, TheShippedExampleIsValid) {
  std::ifstream f(std::string(MAPGW_SOURCE_DIR) + "/examples/ce.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  auto c = parse_config(ss.str(), "examples/ce.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->ce.end_user_prefix.has_value());  // "auto"
}

TEST(ConfigCe, DhcpOptionGivesRulesAndBr) {
  std::string text = kCe;
  text.replace(text.find("br_address"), text.find("legacy_iid") - text.find("br_address"), "");
  text.replace(text.find("rules = ["), text.find("]\n[ce.timeouts]") + 2 - text.find("rules = ["),
               "dhcpv6_hex = \"005e002d00590015011018c00002002820010db800005d000406000000"
               "005a001020010db8ffff00000000000000000001\"\nend_user_prefix_unused = 1\n");
  text.replace(text.find("end_user_prefix = \"240b"), std::string("end_user_prefix = \"240b:10:abcd:ef00::/56\"").size(),
               "end_user_prefix = \"2001:db8:12:3400::/56\"");
  text.replace(text.find("end_user_prefix_unused = 1\n"), std::string("end_user_prefix_unused = 1\n").size(), "");
  text.replace(text.find("external_port = 7935"), std::string("external_port = 7935").size(), "external_port = 1232");
  auto c = parse_config(text, "ce.toml");
  ASSERT_TRUE(c.ok()) << c.error().message << "\n" << text;
  EXPECT_EQ(c->ce.br_address->str(), "2001:db8:ffff::1");
  EXPECT_EQ(c->ce.rules[0].ipv4_prefix().str(), "192.0.2.0/24");
  EXPECT_TRUE(c->ce.rules[0].legacy_iid());
}

class ConfigCeRejects : public ::testing::TestWithParam<Bad> {};

TEST_P(ConfigCeRejects, WithPlaceAndReason) {
  std::string text = kCe;
  const auto& b = GetParam();
  auto pos = text.find(b.from);
  ASSERT_NE(pos, std::string::npos) << b.from;
  text.replace(pos, b.from.size(), b.to);
  auto c = parse_config(text, "ce.toml");
  ASSERT_FALSE(c.ok()) << "accepted: " << text;
  EXPECT_NE(c.error().message.find(b.message_part), std::string::npos) << c.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigCeRejects,
    ::testing::Values(
        Bad{"udp_below_two_minutes", "udp = 300", "udp = 60", "RFC 4787 REQ-5"},
        Bad{"tcp_established_short", "udp = 300", "tcp_established = 3600", "RFC 5382 REQ-5"},
        Bad{"unknown_filtering", "legacy_iid = true", "legacy_iid = true\nfiltering = \"full-cone\"",
            "filtering must be"},
        Bad{"prefix_outside_rules", "240b:10:abcd:ef00::/56", "2001:db8::/56", "outside every rule"},
        Bad{"no_br", "br_address = \"2001:db8:ffff::1\"", "", "needs br_address"},
        Bad{"static_icmp", "protocol = \"tcp\"\nexternal_port", "protocol = \"icmp\"\nexternal_port",
            "static NAPT is for tcp or udp"},
        Bad{"bad_internal", "192.168.1.10:80", "192.168.1.10", "IPV4:PORT"},
        Bad{"filter_ports_without_proto", "protocol = \"tcp\"\nports", "ports", "need protocol"},
        Bad{"filter_action", "action = \"deny\"", "action = \"drop\"", "deny or allow"},
        Bad{"br_section_in_ce", "role = \"ce\"", "role = \"ce\"\n[br]\nx=1", "not [br]"},
        Bad{"same_interfaces", "\"lan0\"", "\"wan0\"", "must differ"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mapgw
