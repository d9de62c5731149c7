// What charon is told for L2TP/IPsec: IKEv1 with a PSK for any client
// identity and/or certificates chaining to our CAs, UDP/1701 on our side
// only, no PFS, transport mode with kernel ESP and tunnel mode as the
// libipsec fallback.
#include <gtest/gtest.h>

#include "vpn/l2tp/ipsec_config.h"

namespace mapgw::l2tp {
namespace {

TEST(L2tpIpsecConfig, TransportModeIkev1ForAnyClientOnUdp1701) {
  IpsecSettings s;
  s.psk = "key";
  s.local_addrs = {"2001:db8::1", "192.0.2.1"};
  auto conns = l2tp_conn_messages(s);
  ASSERT_EQ(conns.size(), 1u);  // PSK only
  const vici::Message* c = conns[0].sub(kConnName);
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
  auto conns = l2tp_conn_messages(s);
  ASSERT_EQ(conns.size(), 1u);
  const vici::Message* child = conns[0].sub(kConnName)->sub("children")->sub(kConnName);
  EXPECT_EQ(*child->value("mode"), "tunnel");
  EXPECT_EQ(*child->list("local_ts"), vici::Message::List{"dynamic[udp/11701]"});
  auto creds = l2tp_credential_messages(s);
  ASSERT_EQ(creds.size(), 1u);
  EXPECT_EQ(creds[0].first, "load-shared");
  const vici::Message& k = creds[0].second;
  EXPECT_EQ(*k.value("type"), "IKE");
  EXPECT_EQ(*k.value("data"), "the-key");
  EXPECT_EQ(k.list("owners"), nullptr);  // any identity
}

// Certificates beside the PSK: a second connection, picked by IKEv1 Main
// Mode for clients proposing RSA/ECDSA signatures.
TEST(L2tpIpsecConfig, CertificatesServeBesideThePsk) {
  IpsecSettings s;
  s.psk = "the-key";
  s.cert_pem = "SERVER CERT";
  s.key_pem = "SERVER KEY";
  s.ca_pems = {"CA ONE", "CA TWO"};
  s.crl_pem = "THE CRL";
  auto conns = l2tp_conn_messages(s);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_NE(conns[0].sub(kConnName), nullptr);
  const vici::Message* c = conns[1].sub(kCertConnName);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(*c->value("send_cert"), "always");
  EXPECT_EQ(*c->sub("local")->value("auth"), "pubkey");
  EXPECT_EQ(*c->sub("local")->list("certs"), vici::Message::List{"SERVER CERT"});
  EXPECT_EQ(*c->sub("remote")->value("auth"), "pubkey");
  EXPECT_EQ(*c->sub("remote")->list("cacerts"), (vici::Message::List{"CA ONE", "CA TWO"}));
  EXPECT_EQ(*c->sub("remote")->value("id"), "%any");
  const vici::Message* child = c->sub("children")->sub(kCertConnName);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(*child->list("local_ts"), vici::Message::List{"dynamic[udp/1701]"});
  EXPECT_TRUE(is_l2tp_conn(kCertConnName));
  EXPECT_STREQ(conn_auth(kCertConnName), "certificate");
  EXPECT_STREQ(conn_auth(kConnName), "psk");
  EXPECT_FALSE(is_l2tp_conn("sipvpn-1"));

  auto creds = l2tp_credential_messages(s);
  std::vector<std::string> what;
  for (const auto& [cmd, m] : creds) what.push_back(cmd + " " + m.value_or("type", "") + " " + m.value_or("flag", ""));
  EXPECT_EQ(what, (std::vector<std::string>{"load-shared IKE ", "load-key any ", "load-cert X509 CA",
                                            "load-cert X509 CA", "load-cert X509_CRL "}));
  EXPECT_EQ(*creds[1].second.value("data"), "SERVER KEY");
  EXPECT_EQ(*creds[4].second.value("data"), "THE CRL");
}

// Clients behind one NAT: each transport-mode CHILD_SA marks what it
// decrypts and takes only packets with its mark, the same value both ways.
TEST(L2tpIpsecConfig, PerSaMarksInTransportModeOnly) {
  IpsecSettings s;
  s.psk = "the-key";
  s.sa_marks = true;
  auto child_of = [](const IpsecSettings& x) {
    return *l2tp_conn_messages(x)[0].sub(kConnName)->sub("children")->sub(kConnName);
  };
  vici::Message child = child_of(s);
  EXPECT_EQ(*child.value("mark_in"), "%unique");
  EXPECT_EQ(*child.value("mark_out"), "%unique");
  EXPECT_EQ(*child.value("set_mark_in"), "%same");
  s.transport = false;  // libipsec sets no marks
  EXPECT_EQ(child_of(s).value("mark_in"), nullptr);
  s.transport = true;
  s.sa_marks = false;
  EXPECT_EQ(child_of(s).value("set_mark_in"), nullptr);
}

TEST(L2tpIpsecConfig, CertificatesAlone) {
  IpsecSettings s;
  s.cert_pem = "SERVER CERT";
  s.key_pem = "SERVER KEY";
  s.ca_pems = {"CA"};
  ASSERT_TRUE(s.enabled());
  auto conns = l2tp_conn_messages(s);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_NE(conns[0].sub(kCertConnName), nullptr);
  for (const auto& [cmd, m] : l2tp_credential_messages(s)) EXPECT_NE(cmd, "load-shared");
  EXPECT_FALSE(IpsecSettings{}.enabled());
}

}  // namespace
}  // namespace mapgw::l2tp
