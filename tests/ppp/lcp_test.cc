// LCP as the server speaks it, against a scripted client: what we ask
// for, how Naks and Rejects move us, what we accept and refuse of the
// client's request, loops, echo keepalive.
#include <gtest/gtest.h>

#include "vpn/bytes.h"
#include "vpn/ppp/lcp.h"

namespace mapgw::ppp {
namespace {

using Clock = Lcp::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

struct Client {
  Clock::time_point now{};
  std::vector<Packet> got;
  std::vector<std::string> downs;
  std::vector<uint16_t> rejected_protocols;
  int ups = 0;
  std::unique_ptr<Lcp> lcp;
  explicit Client(LcpSettings s = {}) {
    Lcp::Hooks h;
    h.send = [this](const Packet& p) { got.push_back(p); };
    h.up = [this] { ++ups; };
    h.down = [this](const std::string& why) { downs.push_back(why); };
    h.finished = [this](const std::string& why) { downs.push_back(why); };
    h.protocol_rejected = [this](uint16_t p) { rejected_protocols.push_back(p); };
    lcp = std::make_unique<Lcp>(s, h, 0x11223344);
    lcp->heard(now);
    lcp->fsm().open(now);
    lcp->fsm().lower_up(now);
  }
  void send(uint8_t c, uint8_t id, const std::string& data) {
    Packet p;
    p.code = c;
    p.id = id;
    p.data = data;
    lcp->heard(now);
    lcp->fsm().receive(encode_packet(p), now);
  }
  const Packet& last() const { return got.back(); }
  std::vector<Option> last_request_options() const {
    for (auto it = got.rbegin(); it != got.rend(); ++it) {
      if (it->code == code::kConfigureRequest) return *parse_options(it->data);
    }
    return {};
  }
  uint8_t last_request_id() const {
    for (auto it = got.rbegin(); it != got.rend(); ++it) {
      if (it->code == code::kConfigureRequest) return it->id;
    }
    return 0;
  }
  void wait(milliseconds d) {
    const auto end = now + d;
    while (now < end) {
      now += milliseconds(100);
      lcp->on_timer(now);
    }
  }
  // The client acks our request and sends its own plain one: LCP opens.
  void open() {
    send(code::kConfigureAck, last_request_id(), got.back().data);
    send(code::kConfigureRequest, 1, hex("050600abcdef"));
    ASSERT_TRUE(lcp->fsm().opened());
  }
};

TEST(Lcp, OurRequestAsksForMruAuthenticationAndMagic) {
  Client c;
  const auto o = c.last_request_options();
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0], (Option{lcp_option::kMru, hex("0578")}));            // 1400
  EXPECT_EQ(o[1], (Option{lcp_option::kAuthProtocol, hex("c22381")}));  // MS-CHAPv2 first (Windows)
  EXPECT_EQ(o[2], (Option{lcp_option::kMagic, hex("11223344")}));
}

TEST(Lcp, AuthenticationNaksMoveUsAlongOurList) {
  Client c;
  // The client prefers CHAP-MD5 (c223 05): one of ours, taken.
  c.send(code::kConfigureNak, c.last_request_id(), hex("0305c22305"));
  EXPECT_EQ(c.last_request_options()[1].value, hex("c22305"));
  // Then EAP (c227), not ours: our next one, PAP.
  c.send(code::kConfigureNak, c.last_request_id(), hex("0304c227"));
  EXPECT_EQ(c.last_request_options()[1].value, hex("c023"));
  // Then something else again: nothing left, the link is closed.
  c.send(code::kConfigureNak, c.last_request_id(), hex("0304c227"));
  EXPECT_EQ(c.last().code, code::kTerminateRequest);
  EXPECT_EQ(c.lcp->fsm().why_finished(), "the client accepts none of our authentication methods");
}

TEST(Lcp, AClientRefusingToAuthenticateIsClosed) {
  Client c;
  c.send(code::kConfigureReject, c.last_request_id(), hex("0305c22381"));
  EXPECT_EQ(c.last().code, code::kTerminateRequest);
  EXPECT_EQ(c.lcp->fsm().why_finished(), "the client refuses to authenticate");
}

TEST(Lcp, TheClientsRequestAcceptedOrRefusedOptionByOption) {
  Client c;
  // MRU 1500, ACCM, Magic, PFC, ACFC: all acceptable.
  c.send(code::kConfigureRequest, 7, hex("010405dc" "020600000000" "050601020304" "0702" "0802"));
  EXPECT_EQ(c.last().code, code::kConfigureAck);
  EXPECT_EQ(c.last().id, 7);
  EXPECT_EQ(c.lcp->peer_mru(), 1500);
  EXPECT_TRUE(c.lcp->peer_pfc() && c.lcp->peer_acfc());
  // The client wanting to authenticate us, and Quality: rejected, exactly those.
  c.send(code::kConfigureRequest, 8, hex("010405dc" "0304c023" "0408c02500000000"));
  EXPECT_EQ(c.last().code, code::kConfigureReject);
  EXPECT_EQ(c.last().data, hex("0304c023" "0408c02500000000"));
  // An MRU too small to be useful: Nak'd with ours.
  c.send(code::kConfigureRequest, 9, hex("01040040"));
  EXPECT_EQ(c.last().code, code::kConfigureNak);
  EXPECT_EQ(c.last().data, hex("01040578"));
}

TEST(Lcp, OurMagicNumberComingBackIsALoop) {
  Client c;
  auto ours = [&] {
    const uint32_t m = c.lcp->magic();
    return std::string{'\x05', '\x06', static_cast<char>(m >> 24), static_cast<char>(m >> 16),
                       static_cast<char>(m >> 8), static_cast<char>(m)};
  };
  for (int i = 0; i < 4; ++i) {
    c.send(code::kConfigureRequest, static_cast<uint8_t>(i), ours());
    EXPECT_EQ(c.last().code, code::kConfigureNak) << i;  // with another number for the peer
  }
  EXPECT_EQ(c.lcp->loops_seen(), 4);
  EXPECT_NE(c.lcp->magic(), 0x11223344u);  // we picked another each time
  EXPECT_FALSE(c.lcp->fsm().why_finished().size());
  c.send(code::kConfigureRequest, 9, ours());  // the fifth: a looped-back line
  EXPECT_NE(c.lcp->fsm().why_finished().find("looped-back"), std::string::npos);
  EXPECT_EQ(c.lcp->fsm().state(), Fsm::State::kClosing);
  EXPECT_EQ(c.last().code, code::kTerminateRequest);  // and no Nak after it
}

TEST(Lcp, EchoAnsweredAndKeepaliveEndsADeadLink) {
  Client c;
  c.open();
  EXPECT_EQ(c.ups, 1);
  c.send(code::kEchoRequest, 42, hex("00abcdef") + "hi");
  EXPECT_EQ(c.last().code, code::kEchoReply);
  EXPECT_EQ(c.last().id, 42);
  EXPECT_EQ(c.last().data, hex("11223344") + "hi");  // our magic, their data
  // Silence: an Echo-Request every 10 s; answered, the link stays.
  c.wait(seconds(10));
  ASSERT_EQ(c.last().code, code::kEchoRequest);
  c.send(code::kEchoReply, c.last().id, hex("00abcdef"));
  c.wait(seconds(10));
  EXPECT_TRUE(c.lcp->fsm().opened());
  // Unanswered three times: closed.
  c.wait(seconds(41));
  EXPECT_FALSE(c.lcp->fsm().opened());
  ASSERT_FALSE(c.downs.empty());
  EXPECT_NE(c.lcp->fsm().why_finished().find("no Echo-Reply"), std::string::npos);
}

TEST(Lcp, ProtocolRejectGoesToTheOwner) {
  Client c;
  c.open();
  c.send(code::kProtocolReject, 3, hex("8057") + "ipv6cp packet");
  ASSERT_EQ(c.rejected_protocols.size(), 1u);
  EXPECT_EQ(c.rejected_protocols[0], proto::kIpv6cp);
}

}  // namespace
}  // namespace mapgw::ppp
