// The PPP stack of one session against a scripted client, through every
// phase: LCP, an MS-CHAPv2 or PAP login, IPCP/IPV6CP, IP packets; and what
// takes it down.
#include <gtest/gtest.h>

#include "vpn/bytes.h"
#include "vpn/ppp/auth_crypto.h"
#include "vpn/ppp/link.h"

namespace mapgw::ppp {
namespace {

using Clock = Link::Clock;

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

struct Client {
  FileUserDb users = *FileUserDb::parse("alice plain:wonderland\n", "users");
  Clock::time_point now{};
  std::vector<std::string> frames;  // from the server
  std::vector<std::string> packets;
  std::string authenticated, down;
  bool v4 = false, v6 = false;
  std::unique_ptr<Link> link;

  explicit Client(std::vector<AuthMethod> methods = {AuthMethod::kMsChapV2}) {
    LinkSettings s;
    s.lcp.auth = methods;
    s.ipcp = {0x0a140001, 0x0a140064, 0x0a140035, 0};
    Link::Hooks h;
    h.send = [this](const std::string& f) { frames.push_back(f); };
    h.authenticated = [this](const std::string& u) { authenticated = u; };
    h.network = [this](bool a, bool b) { v4 = a, v6 = b; };
    h.packet = [this](uint16_t, std::string_view p) { packets.emplace_back(p); };
    h.down = [this](const std::string& why) { down = why; };
    link = std::make_unique<Link>(s, users, h);
    link->start(now);
  }
  // The last packet the server sent of @protocol.
  std::optional<Packet> last(uint16_t protocol) const {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      auto f = parse_frame(*it);
      if (f && f->protocol == protocol) return *parse_packet(f->info);
    }
    return std::nullopt;
  }
  void send(uint16_t protocol, uint8_t code, uint8_t id, const std::string& data) {
    Packet p;
    p.code = code;
    p.id = id;
    p.data = data;
    link->receive(encode_frame(protocol, encode_packet(p)), now);
  }
  // The last Configure-Request (or other @c) the server sent of @protocol.
  std::optional<Packet> last_of(uint16_t protocol, uint8_t c) const {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      auto f = parse_frame(*it);
      if (f && f->protocol == protocol && parse_packet(f->info)->code == c) return *parse_packet(f->info);
    }
    return std::nullopt;
  }
  // The client speaks first (the server waits passively), then acknowledges.
  void open_lcp() {
    send(proto::kLcp, code::kConfigureRequest, 1, hex("050601020304"));
    auto req = last_of(proto::kLcp, code::kConfigureRequest);
    ASSERT_TRUE(req);
    send(proto::kLcp, code::kConfigureAck, req->id, req->data);
    ASSERT_EQ(link->phase(), Link::Phase::kAuthenticate);
  }
  void mschap(const std::string& password) {
    auto ch = last(proto::kChap);
    ASSERT_TRUE(ch);
    const std::string challenge = ch->data.substr(1, 16), peer(16, '\x33');
    auto nt = nt_response(challenge, peer, "alice", password);
    const std::string value = peer + std::string(8, '\0') + *nt + std::string(1, '\0');
    send(proto::kChap, 2, ch->id, std::string(1, 49) + value + "alice");
  }
  void open_ipcp() {
    send(proto::kIpcp, code::kConfigureRequest, 1, hex("030600000000" "810600000000"));
    send(proto::kIpcp, code::kConfigureRequest, 2, hex("03060a140064" "81060a140035"));
    auto req = last(proto::kIpcp);
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {  // our request, not our Ack
      auto f = parse_frame(*it);
      if (f && f->protocol == proto::kIpcp && parse_packet(f->info)->code == code::kConfigureRequest) {
        req = *parse_packet(f->info);
        break;
      }
    }
    send(proto::kIpcp, code::kConfigureAck, req->id, req->data);
  }
};

TEST(PppLink, EveryPhaseToIpPackets) {
  Client c;
  EXPECT_EQ(c.link->phase(), Link::Phase::kEstablish);
  c.open_lcp();
  EXPECT_EQ(c.last(proto::kChap)->code, 1);  // the challenge went out
  // IPCP before the login passed: discarded.
  const auto before = c.link->discarded();
  c.send(proto::kIpcp, code::kConfigureRequest, 1, hex("030600000000"));
  EXPECT_EQ(c.link->discarded(), before + 1);
  c.mschap("wonderland");
  EXPECT_EQ(c.authenticated, "alice");
  EXPECT_EQ(c.link->phase(), Link::Phase::kNetwork);
  c.open_ipcp();
  EXPECT_TRUE(c.v4);
  EXPECT_TRUE(c.link->ipv4_up());
  // IP both ways.
  c.link->receive(encode_frame(proto::kIpv4, "an IPv4 packet"), c.now);
  ASSERT_EQ(c.packets.size(), 1u);
  EXPECT_EQ(c.packets[0], "an IPv4 packet");
  c.link->send_packet(proto::kIpv4, "to the client");
  EXPECT_EQ(c.frames.back(), hex("ff030021") + "to the client");
  // IPv6 before IPV6CP is open: dropped, counted.
  c.link->send_packet(proto::kIpv6, "v6");
  EXPECT_NE(c.frames.back(), hex("ff030057") + "v6");
  // A protocol nobody runs: Protocol-Reject.
  c.link->receive(encode_frame(0x8281, "mpls"), c.now);
  EXPECT_EQ(c.last(proto::kLcp)->code, code::kProtocolReject);
  EXPECT_EQ(c.last(proto::kLcp)->data.substr(0, 2), hex("8281"));
}

TEST(PppLink, AWrongPasswordTakesTheLinkDown) {
  Client c;
  c.open_lcp();
  c.mschap("queen");
  EXPECT_EQ(c.last(proto::kChap)->code, 4);
  EXPECT_EQ(c.last(proto::kLcp)->code, code::kTerminateRequest);
  c.send(proto::kLcp, code::kTerminateAck, c.last(proto::kLcp)->id, "");
  EXPECT_EQ(c.down, "login failed: wrong password (MS-CHAPv2)");
  EXPECT_EQ(c.link->phase(), Link::Phase::kDead);
}

TEST(PppLink, TheClientsTerminateAndIpv6cpRejected) {
  Client c({AuthMethod::kPap});
  c.open_lcp();
  c.send(proto::kPap, 1, 1, std::string("\x05") + "alice" + std::string("\x0a") + "wonderland");
  EXPECT_EQ(c.authenticated, "alice");
  // A client without IPv6 Protocol-Rejects IPV6CP: IPv4 goes on alone.
  c.send(proto::kLcp, code::kProtocolReject, 9, hex("8057") + "x");
  c.open_ipcp();
  EXPECT_TRUE(c.v4);
  EXPECT_FALSE(c.v6);
  c.send(proto::kLcp, code::kTerminateRequest, 7, "");
  EXPECT_EQ(c.last(proto::kLcp)->code, code::kTerminateAck);
  EXPECT_FALSE(c.link->ipv4_up());
  // Down only once the Terminate exchange is over (RFC 1661 Stopping: one
  // restart timer), so the Ack reaches the client before the session goes.
  EXPECT_TRUE(c.down.empty());
  EXPECT_EQ(c.link->phase(), Link::Phase::kTerminate);
  c.now += std::chrono::seconds(4);
  c.link->on_timer(c.now);
  EXPECT_FALSE(c.down.empty());
  EXPECT_EQ(c.link->phase(), Link::Phase::kDead);
}

TEST(PppLink, TheServerWaitsForTheClientThenAsksOnItsOwn) {
  // An LAC starts pppd after the call is up: asking at once would be lost
  // and cost a restart timer. Nothing before the client speaks, or before
  // passive_wait (1 s) has passed.
  Client c({AuthMethod::kPap});
  EXPECT_TRUE(c.frames.empty());
  c.now += std::chrono::milliseconds(900);
  c.link->on_timer(c.now);
  EXPECT_TRUE(c.frames.empty());
  EXPECT_EQ(*c.link->next_deadline(), Clock::time_point{} + std::chrono::milliseconds(1000));
  c.now += std::chrono::milliseconds(100);
  c.link->on_timer(c.now);
  ASSERT_TRUE(c.last(proto::kLcp));
  EXPECT_EQ(c.last(proto::kLcp)->code, code::kConfigureRequest);
}

TEST(PppLink, OurCloseSendsTerminateRequestAndEndsOnItsAck) {
  Client c({AuthMethod::kPap});
  c.open_lcp();
  c.link->close("operator", c.now);
  auto tr = c.last(proto::kLcp);
  ASSERT_TRUE(tr);
  EXPECT_EQ(tr->code, code::kTerminateRequest);
  EXPECT_TRUE(c.down.empty());
  c.send(proto::kLcp, code::kTerminateAck, tr->id, "");
  EXPECT_EQ(c.down, "operator");
}

}  // namespace
}  // namespace mapgw::ppp
