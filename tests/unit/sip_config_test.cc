// The [sip] section: a node that only does SIP-VPN, the documented
// defaults, and each kind of mistake refused with the reason.
#include <gtest/gtest.h>

#include "agent/config/config.h"

namespace mapgw {
namespace {

const std::string kSipOnly = R"(
role = "none"
[sip]
aor = "sip:0311111111@example.ne.jp"
password = "secret"
registrar = "sip:example.ne.jp"
outbound_proxy = "[2001:db8::1]:5060"
listen = ["[2001:db8::11]:5060", "192.0.2.11:5060"]
[sip.ike]
roles = ["client", "server"]
auth = ["password", "psk"]
port = 4501
certificate_fingerprint = "SHA-1 52:B6:5D:FA:BF:8A:8A:DB:7B:78:49:21:2C:AB:86:71:DC:9D:1C:65"
psk = "shared"
bandwidth_kbps = 1000
)";

TEST(SipConfig, ANodeThatOnlyDoesSip) {
  auto c = parse_config(kSipOnly, "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->role, Role::kNone);
  ASSERT_TRUE(c->sip);
  const auto& u = c->sip->ua;
  EXPECT_EQ(u.aor, "sip:0311111111@example.ne.jp");
  EXPECT_EQ(u.timers.session_expires, 300u);  // TS-1017 Appendix II
  EXPECT_EQ(u.timers.refresher, sip::Refresher::kUas);
  EXPECT_EQ(u.register_expires, 3600u);
  EXPECT_EQ(u.ike.port, 4501);
  EXPECT_TRUE(u.ike.caps.client && u.ike.caps.server && u.ike.caps.password && u.ike.caps.psk);
  EXPECT_EQ(u.ike.psk_fingerprint, sip::sha1_fingerprint("shared"));
  auto r = resolve_sip_config(*c->sip);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outbound_proxy->str(), "[2001:db8::1]:5060");
  EXPECT_EQ(r->local_v6->str(), "[2001:db8::11]:5060");
  EXPECT_EQ(r->local_v4->str(), "192.0.2.11:5060");
}

TEST(SipConfig, TheExampleIsValid) {
  auto c = load_config_file(std::string(MAPGW_SOURCE_DIR) + "/examples/sip.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->role, Role::kNone);
  EXPECT_EQ(c->sip->ua.timers.session_expires, 300u);
}

TEST(SipConfig, TheSipVpnExamplesAreValid) {
  for (const char* name : {"sipvpn-server", "sipvpn-client"}) {
    auto c = load_config_file(std::string(MAPGW_SOURCE_DIR) + "/examples/" + name + ".toml");
    ASSERT_TRUE(c.ok()) << name << ": " << c.error().message;
    ASSERT_TRUE(c->sipvpn) << name;
    EXPECT_EQ(c->sipvpn->vpn.psk, "change-me");
    EXPECT_EQ(c->sipvpn->run_dir, "/run/mapgw/" + c->instance + "/charon");
  }
  auto server = load_config_file(std::string(MAPGW_SOURCE_DIR) + "/examples/sipvpn-server.toml");
  EXPECT_EQ(server->sipvpn->vpn.permitted_peers.count("0311111111@example.ne.jp"), 1u);
  EXPECT_EQ(server->sipvpn->vpn.tunnel.subnets, std::vector<std::string>{"10.10.0.0/24"});
}

TEST(SipConfig, SipVpnNeedsSipAndValidKeys) {
  EXPECT_FALSE(parse_config("role = \"none\"\n[sipvpn]\n", "t.toml").ok());
  const std::string base =
      "role = \"none\"\n[sip]\naor = \"sip:a@example.ne.jp\"\n[sip.ike]\nauth = [\"psk\"]\npsk = \"k\"\n"
      "[sipvpn]\n";
  EXPECT_TRUE(parse_config(base, "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "esp_backend = \"xfrm\"\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "run_dir = \"relative\"\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "permitted_peers = [\"mailto:x@y\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "ike_proposals = []\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "child_rekey = 5\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "lifetime = 5\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "eap_user = \"alice\"\n", "t.toml").ok());  // without its password
  // The network space: each value of its family and form.
  EXPECT_TRUE(parse_config(base + "pool4 = [\"10.0.0.100-10.0.0.150\"]\npool6 = [\"fd00::100/120\"]\n"
                                  "dns4 = [\"10.0.0.53\"]\ndns6 = [\"fd00::53\"]\n"
                                  "subnets = [\"10.0.0.0/24\", \"fd00::/64\"]\ninner = [\"ipv4\", \"ipv6\"]\n",
                           "t.toml")
                  .ok());
  EXPECT_FALSE(parse_config(base + "pool4 = [\"fd00::100/120\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "pool6 = [\"10.0.0.1-10.0.0.9\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "pool4 = [\"10.0.0.1/24\", \"10.1.0.1/24\"]\n", "t.toml").ok());  // one range
  EXPECT_FALSE(parse_config(base + "dns4 = [\"fd00::53\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "subnets = [\"10.0.0.0/33\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "subnets = [\"lan\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "inner = [\"ipx\"]\n", "t.toml").ok());
  EXPECT_FALSE(parse_config(base + "inner = []\n", "t.toml").ok());
  {
    auto v6only = parse_config(base + "inner = [\"ipv6\"]\n", "t.toml");
    ASSERT_TRUE(v6only.ok());
    EXPECT_FALSE(v6only->sipvpn->vpn.tunnel.inner_ipv4);
    EXPECT_TRUE(v6only->sipvpn->vpn.tunnel.inner_ipv6);
  }
  // Password mode needs its credentials: a client its own, a server its users.
  const std::string pw = "role = \"none\"\n[sip]\naor = \"sip:a@example.ne.jp\"\n[sipvpn]\n";
  EXPECT_FALSE(parse_config(pw, "t.toml").ok());
  EXPECT_TRUE(parse_config(pw + "eap_user = \"alice\"\neap_password = \"x\"\n", "t.toml").ok());
}

TEST(SipConfig, BesideAMapRole) {
  auto c = parse_config(R"(
role = "br"
[br]
ipv4_interface = "eth0"
ipv6_interface = "eth1"
[[br.domain]]
name = "d1"
br_address = "2001:db8:ffff::1"
rules = ["ipv6=2001:db8::/40,ipv4=192.0.2.0/24,ea=16"]
[sip]
aor = "sip:0311111111@example.ne.jp"
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->role, Role::kBr);
  ASSERT_TRUE(c->sip);
  EXPECT_EQ(c->sip->listen, std::vector<std::string>{"[::]:5060"});
  EXPECT_TRUE(c->sip->ua.ike.caps.client);
  EXPECT_FALSE(c->sip->ua.ike.caps.server);
}

struct Bad {
  const char* what;
  std::string toml;
  const char* message;
};

class SipConfigErrors : public testing::TestWithParam<Bad> {};
TEST_P(SipConfigErrors, Refused) {
  auto c = parse_config(GetParam().toml, "t.toml");
  ASSERT_FALSE(c.ok()) << GetParam().what;
  EXPECT_NE(c.error().message.find(GetParam().message), std::string::npos) << c.error().message;
}

std::string sip(const std::string& body, const std::string& ike = "") {
  return "role = \"none\"\n[sip]\naor = \"sip:a@example.ne.jp\"\n" + body + (ike.empty() ? "" : "[sip.ike]\n" + ike);
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, SipConfigErrors,
    testing::Values(
        Bad{"none without sip", "role = \"none\"\n", "needs a service"},
        Bad{"unknown key", sip("registar = \"sip:x\"\n"), "unknown key 'registar'"},
        Bad{"aor without user", "role = \"none\"\n[sip]\naor = \"sip:example.ne.jp\"\n", "with a user"},
        Bad{"tel aor", "role = \"none\"\n[sip]\naor = \"tel:0311111111\"\n", "sip: URI"},
        Bad{"bad registrar", sip("registrar = \"example.ne.jp\"\n"), "registrar in [sip] must be a sip: URI"},
        Bad{"v6 proxy without brackets", sip("outbound_proxy = \"2001:db8::1:5060\"\n"), "in brackets"},
        Bad{"two v6 listens", sip("listen = [\"[::1]:5060\", \"[::2]:5060\"]\n"), "two addresses of one family"},
        Bad{"listen a name", sip("listen = [\"sip.example:5060\"]\n"), "not a numeric"},
        Bad{"short session", sip("session_expires = 60\n"), "session_expires in [sip] must be 90"},
        Bad{"session below min_se", sip("min_se = 600\n"), "below min_se"},
        Bad{"refresher", sip("refresher = \"both\"\n"), "refresher"},
        Bad{"quote in password", sip("password = \"a\\\"b\"\n"), "quotes"},
        Bad{"no role", sip("", "roles = []\n"), "roles in [sip.ike] is empty"},
        Bad{"odd role", sip("", "roles = [\"relay\"]\n"), "not \"relay\""},
        Bad{"server password without fingerprint", sip("", "roles = [\"server\"]\n"), "certificate_fingerprint"},
        Bad{"psk without key", sip("", "auth = [\"psk\"]\n"), "needs psk"},
        Bad{"bad fingerprint", sip("", "certificate_fingerprint = \"SHA-1 00:11\"\n"), "certificate_fingerprint"},
        Bad{"ike port 0", sip("", "port = 0\n"), "port in [sip.ike] must be 1..65535"}),
    [](const testing::TestParamInfo<Bad>& i) {
      std::string n = i.param.what;
      for (char& ch : n) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

}  // namespace
}  // namespace mapgw
