// What charon is told per call, row by row with the TS-1017 clause.
#include "vpn/sipvpn/tunnel_config.h"

#include <gtest/gtest.h>

namespace mapgw::vpn {
namespace {

TEST(IkeIdentity, FromSipAndTelUris) {
  EXPECT_EQ(ike_identity("sip:0311111111@example.ne.jp"), "0311111111@example.ne.jp");
  EXPECT_EQ(ike_identity("sip:0311111111@example.ne.jp:5060;user=phone"), "0311111111@example.ne.jp");
  EXPECT_EQ(ike_identity("sip:a@[2001:db8::1]:5060"), "a@[2001:db8::1]");
  EXPECT_EQ(ike_identity("tel:0322222222;phone-context=example.ne.jp"), "0322222222@example.ne.jp");
  EXPECT_EQ(ike_identity("tel:+81312345678"), "+81312345678");
  EXPECT_EQ(ike_identity("sip:example.ne.jp"), "");
  EXPECT_EQ(ike_identity("mailto:x@y"), "");
}

CallTunnel tunnel(sip::VpnRole role) {
  CallTunnel t;
  t.name = "sipvpn-7";
  t.local_address = "2001:db8::11";
  t.local_port = 4500;
  t.peer.address = "2001:db8::22";
  t.peer.port = 22222;  // TS-1017 II.1.1 F3
  t.peer.local_role = role;
  t.peer.auth = sip::IkeAuth::kPsk;
  t.local_id = "0311111111@example.ne.jp";
  t.remote_id = "0322222222@example.ne.jp";
  t.psk = "secret";
  return t;
}

TEST(TunnelConfig, ClientConnection) {
  SipVpnSettings s;
  auto m = load_conn_message(s, tunnel(sip::VpnRole::kClient));
  const auto* c = m.sub("sipvpn-7");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->value("version"), "2");                     // IKEv2 (§3.3.3)
  EXPECT_EQ(*c->value("remote_port"), "22222");             // the SDP's port (§4.1.2.2)
  EXPECT_EQ(*c->value("local_port"), "4500");
  EXPECT_EQ(*c->value("encap"), "yes");                     // UDP-encapsulated ESP (§3.3.4)
  EXPECT_EQ(*c->list("vips"), std::vector<std::string>{"0.0.0.0"});  // CP (§4.1.3.1)
  EXPECT_EQ(c->sub("local")->value_or("auth", ""), "psk");
  EXPECT_EQ(c->sub("remote")->value_or("id", ""), "0322222222@example.ne.jp");
  const auto* child = c->sub("children")->sub("sipvpn-7");
  EXPECT_EQ(*child->value("mode"), "tunnel");
  EXPECT_EQ(*child->list("esp_proposals"), (std::vector<std::string>{"aes256-sha256", "aes128-sha256"}));
  EXPECT_EQ(*child->list("remote_ts"), std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(c->value("pools"), nullptr);
}

TEST(TunnelConfig, ServerConnectionAcceptsPfsAndHandsOutItsSpace) {
  SipVpnSettings s;
  s.pool4 = {"10.10.0.100-10.10.0.150"};
  s.dns4 = {"10.10.0.53"};
  s.subnets = {"10.10.0.0/24"};
  auto m = load_conn_message(s, tunnel(sip::VpnRole::kServer));
  const auto* c = m.sub("sipvpn-7");
  EXPECT_EQ(*c->list("pools"), std::vector<std::string>{"sipvpn-v4"});
  EXPECT_EQ(c->list("vips"), nullptr);
  const auto* child = c->sub("children")->sub("sipvpn-7");
  EXPECT_EQ(child->list("esp_proposals")->back(), "aes128-sha256-modp2048");  // PFS too (§4.3)
  EXPECT_EQ(*child->list("local_ts"), std::vector<std::string>{"10.10.0.0/24"});
  auto pools = load_pool_messages(s, "sipvpn");
  ASSERT_EQ(pools.size(), 1u);
  const auto* p = pools[0].sub("sipvpn-v4");
  EXPECT_EQ(*p->value("addrs"), "10.10.0.100-10.10.0.150");
  EXPECT_EQ(*p->list("dns"), std::vector<std::string>{"10.10.0.53"});
  EXPECT_EQ(*p->list("subnet"), std::vector<std::string>{"10.10.0.0/24"});
}

TEST(TunnelConfig, PskBelongsToBothIdentities) {
  SipVpnSettings s;
  auto m = load_psk_message(s, tunnel(sip::VpnRole::kClient));
  EXPECT_EQ(*m.value("type"), "IKE");
  EXPECT_EQ(*m.value("data"), "secret");
  EXPECT_EQ(*m.list("owners"),
            (std::vector<std::string>{"0311111111@example.ne.jp", "0322222222@example.ne.jp"}));
  s.match_peer_identity = false;
  EXPECT_EQ(*load_psk_message(s, tunnel(sip::VpnRole::kClient)).list("owners"),
            std::vector<std::string>{"0311111111@example.ne.jp"});
  EXPECT_EQ(load_conn_message(s, tunnel(sip::VpnRole::kClient)).sub("sipvpn-7")->sub("remote")->value_or("id", ""),
            "%any");
}

TEST(TunnelConfig, DualStackClientAsksForBothFamilies) {
  SipVpnSettings s;
  CallTunnel t = tunnel(sip::VpnRole::kClient);
  t.inner_ipv6 = true;
  const auto m = load_conn_message(s, t);
  const auto* c = m.sub("sipvpn-7");
  EXPECT_EQ(*c->list("vips"), (std::vector<std::string>{"0.0.0.0", "::"}));
  EXPECT_EQ(*c->sub("children")->sub("sipvpn-7")->list("remote_ts"),
            (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  t.inner_ipv4 = false;  // IPv6 only (TS-1017 I-C-3)
  EXPECT_EQ(*load_conn_message(s, t).sub("sipvpn-7")->list("vips"), std::vector<std::string>{"::"});
}

TEST(TunnelConfig, DualStackServerPoolsCarryTheirOwnFamily) {
  SipVpnSettings s;
  s.pool4 = {"10.10.0.100-10.10.0.150"};
  s.pool6 = {"fd00:10::100/120"};
  s.dns4 = {"10.10.0.53"};
  s.dns6 = {"fd00:10::53"};
  s.subnets = {"10.10.0.0/24", "fd00:10::/64"};
  const auto m = load_conn_message(s, tunnel(sip::VpnRole::kServer));
  const auto* c = m.sub("sipvpn-7");
  EXPECT_EQ(*c->list("pools"), (std::vector<std::string>{"sipvpn-v4", "sipvpn-v6"}));
  EXPECT_EQ(*c->sub("children")->sub("sipvpn-7")->list("local_ts"), s.subnets);
  auto pools = load_pool_messages(s, "sipvpn");
  ASSERT_EQ(pools.size(), 2u);
  // Each pool hands out its family's DNS and subnets only: a client that
  // gets both pools sees every attribute once.
  EXPECT_EQ(*pools[0].sub("sipvpn-v4")->list("subnet"), std::vector<std::string>{"10.10.0.0/24"});
  EXPECT_EQ(*pools[1].sub("sipvpn-v6")->list("subnet"), std::vector<std::string>{"fd00:10::/64"});
  EXPECT_EQ(*pools[1].sub("sipvpn-v6")->list("dns"), std::vector<std::string>{"fd00:10::53"});
  EXPECT_EQ(*pools[1].sub("sipvpn-v6")->value("addrs"), "fd00:10::100/120");
}

}  // namespace
}  // namespace mapgw::vpn
