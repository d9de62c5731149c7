// What charon is told for L2TP/IPsec: IKEv1 with a PSK for any client
// identity, UDP/1701 on our side only, no PFS, transport mode with kernel
// ESP and tunnel mode as the libipsec fallback.
#include <gtest/gtest.h>

#include "vpn/l2tp/ipsec_config.h"

namespace mapgw::l2tp {
namespace {

TEST(L2tpIpsecConfig, TransportModeIkev1ForAnyClientOnUdp1701) {
  IpsecSettings s;
  s.psk = "key";
  s.local_addrs = {"2001:db8::1", "192.0.2.1"};
  auto m = l2tp_conn_message(s);
  const vici::Message* c = m.sub(kConnName);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(*c->value("version"), "1");
  EXPECT_EQ(*c->list("local_addrs"), (vici::Message::List{"2001:db8::1", "192.0.2.1"}));
  EXPECT_EQ(*c->list("remote_addrs"), vici::Message::List{"%any"});
  EXPECT_EQ(*c->value("aggressive"), "no");
  EXPECT_EQ(*c->value("dpd_delay"), "30s");
  EXPECT_EQ(*c->value("dpd_timeout"), "90s");
  EXPECT_EQ(*c->sub("local")->value("auth"), "psk");
  EXPECT_EQ(*c->sub("remote")->value("id"), "%any");
  // Proposals the OS clients send: modp1024 for Windows/Android, 3DES last.
  const auto& ike = *c->list("proposals");
  EXPECT_NE(std::find(ike.begin(), ike.end(), "aes256-sha1-modp1024"), ike.end());
  EXPECT_EQ(ike.back(), "3des-sha1-modp1024");
  const vici::Message* child = c->sub("children")->sub(kConnName);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(*child->value("mode"), "transport");
  EXPECT_EQ(*child->list("local_ts"), vici::Message::List{"dynamic[udp/1701]"});
  EXPECT_EQ(*child->list("remote_ts"), vici::Message::List{"dynamic[udp]"});  // clients' source ports vary
  for (const auto& p : *child->list("esp_proposals")) {
    EXPECT_EQ(p.find("modp"), std::string::npos) << p << ": no PFS in Quick Mode";
  }
}

TEST(L2tpIpsecConfig, TunnelModeFallbackAndThePsk) {
  IpsecSettings s;
  s.psk = "the-key";
  s.transport = false;
  s.l2tp_port = 11701;
  auto m = l2tp_conn_message(s);
  const vici::Message* child = m.sub(kConnName)->sub("children")->sub(kConnName);
  EXPECT_EQ(*child->value("mode"), "tunnel");
  EXPECT_EQ(*child->list("local_ts"), vici::Message::List{"dynamic[udp/11701]"});
  auto k = l2tp_psk_message(s);
  EXPECT_EQ(*k.value("type"), "IKE");
  EXPECT_EQ(*k.value("data"), "the-key");
  EXPECT_EQ(k.list("owners"), nullptr);  // any identity
}

}  // namespace
}  // namespace mapgw::l2tp
