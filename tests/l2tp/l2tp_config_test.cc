// The [l2tp] section: the example is valid, the defaults are what README
// says, and each kind of mistake is refused with the reason.
#include <gtest/gtest.h>

#include "agent/config/config.h"
#include "tests/vpn/test_pki.h"

namespace mapgw {
namespace {

const std::string kBase = R"(
role = "none"
[l2tp]
listen = ["2001:db8:1::1"]
psk = "a-long-enough-key"
users_file = "/etc/mapgw/l2tp-users"
pool4 = "10.20.0.100-10.20.0.199"
local4 = "10.20.0.1"
)";

Result<Config> with(const std::string& extra) { return parse_config(kBase + extra, "t.toml"); }

TEST(L2tpConfig, TheExampleIsValid) {
  auto c = load_config_file(std::string(MAPGW_SOURCE_DIR) + "/examples/l2tp.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->l2tp);
  EXPECT_EQ(c->l2tp->server.listen, std::vector<std::string>{"2001:db8:1::1"});
  EXPECT_EQ(c->l2tp->server.lns.link.ipcp.dns1, 0x0a140001u);
}

TEST(L2tpConfig, Defaults) {
  auto c = with("");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto& l = *c->l2tp;
  EXPECT_TRUE(l.require_ipsec);
  EXPECT_EQ(l.server.port, 1701);
  EXPECT_EQ(l.server.tun_name, "l2tp0");
  EXPECT_EQ(l.server.lns.link.lcp.mru, 1382);  // IPv6 outer on a 1500 path (vpn/l2tp/mtu.h)
  EXPECT_EQ(l.server.tun_mtu, 1382u);
  EXPECT_EQ(l.server.lns.link.ipcp.local, 0x0a140001u);
  EXPECT_EQ(l.server.lns.single_session, l2tp::SingleSession::kReplace);
  EXPECT_EQ(l.server.lns.link.lcp.auth.size(), 3u);
  EXPECT_EQ(l.server.lns.link.lcp.auth[0], ppp::AuthMethod::kMsChapV2);
  EXPECT_FALSE(l.server.lns.link.ipv6);
  EXPECT_EQ(l.ipsec.local_addrs, l.server.listen);
  EXPECT_EQ(l.run_dir, "/run/mapgw/default/l2tp-charon");
}

TEST(L2tpConfig, Ipv6InsideTheSessions) {
  auto c = with("ipv6 = true\nprefix6 = \"2001:db8:100::/56\"\ndns6 = [\"2001:db8:1::53\"]\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->l2tp->server.lns.link.ipv6);
  EXPECT_EQ(c->l2tp->server.lns.prefix6, "2001:db8:100::/56");
  ASSERT_EQ(c->l2tp->server.lns.dns6.size(), 1u);
  EXPECT_EQ(c->l2tp->server.lns.dns6[0][15], 0x53);
}

TEST(L2tpConfig, AnIpv4OnlyServerGetsTheIpv4Mru) {
  auto c = parse_config(R"(
role = "none"
[l2tp]
listen = ["192.0.2.1"]
require_ipsec = false
users_file = "/u"
pool4 = "10.20.0.100-10.20.0.199"
local4 = "10.20.0.1"
single_session = "deny"
auth = ["pap"]
)", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->l2tp->server.lns.link.lcp.mru, 1398);
  EXPECT_EQ(c->l2tp->server.lns.single_session, l2tp::SingleSession::kDeny);
  EXPECT_TRUE(c->l2tp->ipsec.psk.empty());
}

TEST(L2tpConfig, MistakesAreRefusedWithTheReason) {
  struct Bad {
    const char* what;
    std::string text;
    const char* says;
  };
  const std::vector<Bad> bad = {
      {"no psk", "role = \"none\"\n[l2tp]\nlisten = [\"2001:db8::1\"]\nusers_file = \"/u\"\npool4 = \"10.0.0.2-10.0.0.3\"\nlocal4 = \"10.0.0.1\"\n", "needs 'psk'"},
      {"no listen", "role = \"none\"\n[l2tp]\npsk = \"abcdefgh\"\n", "needs 'listen'"},
  };
  for (const auto& b : bad) {
    auto c = parse_config(b.text, "t.toml");
    ASSERT_FALSE(c.ok()) << b.what;
    EXPECT_NE(c.error().message.find(b.says), std::string::npos) << b.what << ": " << c.error().message;
  }
  auto refused = [](const std::string& extra, const char* says) {
    auto c = with(extra);
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_NE(c.error().message.find(says), std::string::npos) << extra << ": " << c.error().message;
  };
  refused("port = 0\n", "port");
  refused("esp_backend = \"xfrm\"\n", "esp_backend");
  refused("auth = [\"eap\"]\n", "auth");
  refused("auth = []\n", "may not be empty");
  refused("dns4 = [\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\"]\n", "at most two");
  refused("dns4 = [\"2001:db8::53\"]\n", "not an IPv4");
  refused("single_session = \"maybe\"\n", "single_session");
  refused("mru = 100\n", "mru");
  refused("tun = \"a-very-long-interface-name\"\n", "tun");
  refused("run_dir = \"relative\"\n", "absolute");
  refused("nonsense = 1\n", "unknown key 'nonsense'");
  refused("echo_interval = 0\n", "echo_interval");
  refused("new_tunnels_per_second = 0\n", "new_tunnels_per_second");
  refused("ipv6 = true\n", "needs prefix6");
  refused("ipv6 = true\nprefix6 = \"2001:db8::/80\"\n", "32..64");
  refused("prefix6 = \"2001:db8:100::/56\"\n", "needs ipv6 = true");
  refused("ipv6 = true\nprefix6 = \"2001:db8:100::/56\"\ndns6 = [\"10.0.0.1\"]\n", "not an IPv6 address");
  auto c = parse_config("role = \"none\"\n[l2tp]\nlisten = [\"::\"]\npsk = \"abcdefgh\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("own addresses"), std::string::npos) << c.error().message;
  c = parse_config("role = \"none\"\n[l2tp]\nlisten = [\"2001:db8::1\"]\npsk = \"short\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("shorter than 8"), std::string::npos) << c.error().message;
  c = parse_config(kBase + "", "t.toml");
  ASSERT_TRUE(c.ok());
  // Our own address inside the pool.
  std::string inside = kBase;
  inside.replace(inside.find("local4 = \"10.20.0.1\""), 20, "local4 = \"10.20.0.150\"");
  c = parse_config(inside, "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("inside pool4"), std::string::npos) << c.error().message;
}

// IKEv1 with certificates: the files are read and checked with the
// configuration (certificates by strongSwan's pki: tests/vpn/make_test_pki.sh).
class L2tpCertConfig : public testing::LabPkiTest {
 protected:
  static std::string certs(const std::string& cert = "server", const std::string& key = "server",
                           const std::string& ca = "ca", const std::string& crl = "crl") {
    std::string out;
    if (!cert.empty()) out += "certificate = \"" + dir_ + "/" + cert + ".pem\"\n";
    if (!key.empty()) out += "certificate_key = \"" + dir_ + "/" + key + ".key\"\n";
    if (!ca.empty()) out += "ca = \"" + dir_ + "/" + ca + ".pem\"\n";
    if (!crl.empty()) out += "crl = \"" + dir_ + "/" + crl + ".pem\"\n";
    return out;
  }
  static std::string without_psk() {
    std::string b = kBase;
    b.erase(b.find("psk = "), std::string("psk = \"a-long-enough-key\"\n").size());
    return b;
  }
};

TEST_F(L2tpCertConfig, BesideThePsk) {
  auto c = with(certs());
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto& l = *c->l2tp;
  EXPECT_TRUE(l.ipsec.psk_auth());
  EXPECT_TRUE(l.ipsec.cert_auth());
  EXPECT_EQ(l.ipsec.ca_pems.size(), 1u);
  EXPECT_NE(l.ipsec.crl_pem.find("BEGIN X509 CRL"), std::string::npos);
  EXPECT_NE(l.ipsec.key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(l.cert_subject, "C=JP, O=mapgw lab, CN=lns.example");
}

TEST_F(L2tpCertConfig, InsteadOfThePsk) {
  auto c = parse_config(without_psk() + certs("server", "server", "ca", ""), "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->l2tp->ipsec.psk_auth());
  EXPECT_TRUE(c->l2tp->ipsec.cert_auth());
  EXPECT_TRUE(c->l2tp->ipsec.crl_pem.empty());
  // Neither: IPsec cannot be required.
  auto none = parse_config(without_psk(), "t.toml");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("needs 'psk'"), std::string::npos) << none.error().message;
}

TEST_F(L2tpCertConfig, MistakesAreRefusedWithTheReason) {
  auto refused = [](const std::string& extra, const std::string& why) {
    auto c = with(extra);
    ASSERT_FALSE(c.ok()) << extra;
    EXPECT_NE(c.error().message.find(why), std::string::npos) << c.error().message;
  };
  refused(certs("server", "server", "", ""), "take all of");
  refused(certs("server", "", "ca", ""), "take all of");
  refused(certs("", "", "", "crl"), "take all of");
  refused(certs("server", "alice", "ca", ""), "is not the key of");
  refused(certs("expired", "expired", "ca", ""), "expired on");
  refused(certs("server", "server", "alice", ""), "is not a CA certificate");
  refused(certs("server", "server", "other-ca", "crl"), "not signed by");
  refused(certs("missing", "server", "ca", ""), "cannot read");
}

// A reload that changes only credentials (the PSK, a certificate, the CRL)
// hands them to charon and keeps every session; anything else restarts.
TEST_F(L2tpCertConfig, AReloadTellsCredentialsFromSettings) {
  auto a = with(certs("server", "server", "ca", ""));
  auto b = with(certs());  // a CRL added
  std::string other_psk = kBase;
  other_psk.replace(other_psk.find("a-long-enough-key"), 17, "another-long-key!");
  auto c = parse_config(other_psk + certs("server", "server", "ca", ""), "t.toml");
  auto d = with(certs("server", "server", "ca", "") + "max_tunnels = 10\n");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_TRUE(a->l2tp->same_settings(*b->l2tp));
  EXPECT_FALSE(*a->l2tp == *b->l2tp);
  EXPECT_TRUE(a->l2tp->same_settings(*c->l2tp));
  EXPECT_FALSE(*a->l2tp == *c->l2tp);
  EXPECT_FALSE(a->l2tp->same_settings(*d->l2tp));
  auto again = with(certs("server", "server", "ca", ""));
  EXPECT_TRUE(*a->l2tp == *again->l2tp);
}

}  // namespace
}  // namespace mapgw
