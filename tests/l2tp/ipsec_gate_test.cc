// The IPsec gate fed charon's events as VICI messages: which datagrams it
// admits, and which IPsec peer loses its last SA — with several clients
// behind one NAT address, each on its own marked CHILD_SA.
#include "vpn/l2tp/ipsec_gate.h"

#include <gtest/gtest.h>

namespace mapgw::l2tp {
namespace {

// An ike-updown / child-updown / list-sa event for IKE SA @ike from
// @host:@port with CHILD_SAs {unique ID, inbound mark}.
vici::Message event(bool up, const std::string& ike, const std::string& host, int port,
                    const std::vector<std::pair<std::string, uint32_t>>& children, const char* conn = kConnName) {
  vici::Message m;
  if (up) m.set("up", "yes");
  auto& sa = m.section(conn);
  sa.set("uniqueid", ike).set("remote-host", host).set("remote-port", std::to_string(port));
  sa.set("remote-id", host).set("state", "ESTABLISHED");
  auto& list = sa.section("child-sas");
  for (const auto& [id, mark] : children) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", mark);
    auto& c = list.section(std::string(conn) + "-" + id);
    c.set("uniqueid", id).set("state", "INSTALLED");
    if (mark) c.set("mark-in", hex);
  }
  return m;
}

Endpoint peer(const std::string& s) { return *Endpoint::parse(s); }

class Gate : public ::testing::Test {
 protected:
  Gate() : gate(IpsecSettings{}, false, [this](const std::string& key, const std::string&) { down.push_back(key); }) {}
  IpsecGate gate;
  std::vector<std::string> down;
};

TEST_F(Gate, TwoClientsBehindOneNatEachOnTheirOwnSa) {
  gate.on_event("ike-updown", event(true, "1", "192.0.2.2", 4500, {}));
  gate.on_event("child-updown", event(true, "1", "192.0.2.2", 4500, {{"7", 1}}));
  gate.on_event("ike-updown", event(true, "2", "192.0.2.2", 1024, {}));
  gate.on_event("child-updown", event(true, "2", "192.0.2.2", 1024, {{"8", 2}}, kCertConnName));
  EXPECT_TRUE(gate.admits(peer("192.0.2.2:1701#1"), 0));
  EXPECT_TRUE(gate.admits(peer("192.0.2.2:1701#2"), 0));
  EXPECT_FALSE(gate.admits(peer("192.0.2.2:1701"), 0));    // plaintext carries no mark
  EXPECT_FALSE(gate.admits(peer("192.0.2.2:1701#3"), 0));  // no SA of ours marks with 3
  EXPECT_FALSE(gate.admits(peer("192.0.2.9:1701#1"), 0));
  EXPECT_EQ(gate.protected_keys(), (std::set<std::string>{"192.0.2.2#1", "192.0.2.2#2"}));
  ASSERT_EQ(gate.sas().size(), 2u);
  EXPECT_EQ(gate.sas()[1].auth, "certificate");

  // The first client's CHILD_SA goes: only its tunnels are to end.
  gate.on_event("child-updown", event(false, "1", "192.0.2.2", 4500, {{"7", 1}}));
  EXPECT_EQ(down, std::vector<std::string>{"192.0.2.2#1"});
  EXPECT_FALSE(gate.admits(peer("192.0.2.2:1701#1"), 0));
  EXPECT_TRUE(gate.admits(peer("192.0.2.2:1701#2"), 0));
  // The second client's IKE SA goes, and its CHILD_SA with it.
  gate.on_event("ike-updown", event(false, "2", "192.0.2.2", 1024, {}, kCertConnName));
  ASSERT_EQ(down.size(), 3u);
  EXPECT_EQ(std::set<std::string>(down.begin() + 1, down.end()), (std::set<std::string>{"192.0.2.2#2", "192.0.2.2"}));
  EXPECT_FALSE(gate.admits(peer("192.0.2.2:1701#2"), 0));
  EXPECT_EQ(gate.sas().size(), 1u);  // the first IKE SA, without CHILD_SAs
}

TEST_F(Gate, UnmarkedSasAreKeyedByHost) {
  // Kernels without per-SA marks, or libipsec: one key per host.
  gate.on_event("list-sa", event(false, "5", "2001:db8:1::2", 4500, {{"9", 0}}));
  EXPECT_TRUE(gate.admits(peer("[2001:db8:1::2]:1701"), 0));
  EXPECT_EQ(gate.protected_keys(), std::set<std::string>{"2001:db8:1::2"});
  gate.on_event("child-updown", event(false, "5", "2001:db8:1::2", 4500, {{"9", 0}}));
  EXPECT_EQ(down, std::vector<std::string>{"2001:db8:1::2"});
  EXPECT_FALSE(gate.admits(peer("[2001:db8:1::2]:1701"), 0));
}

TEST_F(Gate, ADownEventForAnSaAlreadyGoneLeavesNoGhost) {
  // charon's events for one SA may come after its IKE SA's own "down"
  // (a CHILD_SA deleted with it, our cascade's terminate crossing the
  // client's delete): the status must not show an SA that no longer is.
  gate.on_event("ike-updown", event(true, "6", "192.0.2.6", 4500, {}, kCertConnName));
  gate.on_event("child-updown", event(true, "6", "192.0.2.6", 4500, {{"10", 0}}, kCertConnName));
  gate.on_event("ike-updown", event(false, "6", "192.0.2.6", 4500, {}, kCertConnName));
  gate.on_event("child-updown", event(false, "6", "192.0.2.6", 4500, {{"10", 0}}, kCertConnName));
  gate.on_event("ike-updown", event(false, "6", "192.0.2.6", 4500, {}, kCertConnName));
  EXPECT_TRUE(gate.sas().empty());
  EXPECT_FALSE(gate.admits(peer("192.0.2.6:1701"), 0));
  // A down event for an SA we never saw go up: nothing to show either.
  gate.on_event("child-updown", event(false, "7", "192.0.2.7", 4500, {{"11", 0}}));
  EXPECT_TRUE(gate.sas().empty());
}

TEST_F(Gate, OtherConnectionsAreNotOurs) {
  gate.on_event("child-updown", event(true, "3", "192.0.2.3", 4500, {{"4", 0}}, "sipvpn-call-1"));
  EXPECT_FALSE(gate.admits(peer("192.0.2.3:1701"), 0));
  EXPECT_TRUE(gate.sas().empty());
}

}  // namespace
}  // namespace mapgw::l2tp
