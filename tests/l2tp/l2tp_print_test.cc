// `mapgwctl l2tp status` as a table: what an operator reads about IPsec.
#include "agent/cli/l2tp_print.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mapgw {
namespace {

TEST(L2tpPrint, IpsecAuthCertificateAndSas) {
  const auto j = nlohmann::json::parse(R"({
    "listen": ["[2001:db8:1::1]:1701"], "tun": "l2tp0", "require_ipsec": true,
    "ipsec": {"charon": "up", "backend": "kernel", "mode": "transport", "auth": ["psk", "certificate"],
              "certificate": {"subject": "C=JP, O=Example, CN=vpn", "not_after": "2027-12-01T00:00:00Z",
                              "cas": 1, "crl": true},
              "sas": [{"ike_id": "3", "host": "2001:db8:1::2", "port": 4500, "auth": "certificate",
                       "remote_id": "C=JP, O=Example, CN=alice", "child_sas": 1, "up_seconds": 14},
                      {"ike_id": "4", "host": "192.0.2.2", "port": 1024, "auth": "psk",
                       "remote_id": "172.16.2.2", "child_sas": 1, "up_seconds": 3}]},
    "tunnels": [], "sessions": []})");
  std::ostringstream out;
  print_l2tp_status(j, out);
  const std::string text = out.str();
  EXPECT_NE(text.find("  auth        psk and certificate\n"), std::string::npos) << text;
  EXPECT_NE(text.find("certificate C=JP, O=Example, CN=vpn (until 2027-12-01T00:00:00Z), 1 CA(s), CRL loaded"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  SA 3  [2001:db8:1::2]:4500  certificate  C=JP, O=Example, CN=alice, 1 CHILD_SA(s), up 14 s"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  SA 4  192.0.2.2:1024  psk  172.16.2.2"), std::string::npos) << text;
}

TEST(L2tpPrint, IpsecOff) {
  std::ostringstream out;
  print_l2tp_status(nlohmann::json::parse(R"({"listen": [], "tunnels": [], "sessions": []})"), out);
  EXPECT_NE(out.str().find("IPsec         off"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace mapgw
