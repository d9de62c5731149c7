// The LNS side of a control connection against a scripted LAC: the
// handshake with and without tunnel authentication, refusals with their
// result codes, incoming-call sessions, and what ends them.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "vpn/l2tp/codes.h"
#include "vpn/l2tp/tunnel.h"

namespace mapgw::l2tp {
namespace {

using Clock = Tunnel::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint16_t kLacTunnel = 0x4711;

std::string md5(const std::string& in) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

Avp type(MessageType t) { return make_avp(avp::kMessageType, be16(static_cast<uint16_t>(t))); }

uint16_t result_code(const ControlMessage& m) {
  const Avp* a = m.find(avp::kResultCode);
  return a && a->value.size() >= 2 ? static_cast<uint16_t>(static_cast<uint8_t>(a->value[0]) << 8 |
                                                            static_cast<uint8_t>(a->value[1]))
                                   : 0;
}

// A LAC that writes what a test tells it and reads what the LNS sends.
struct Lac {
  LnsSettings settings;
  Clock::time_point now{};
  std::vector<ControlMessage> got;  // everything the LNS sent, ZLBs too
  std::vector<std::string> up, down, closed;
  uint16_t ns = 0;
  std::unique_ptr<Tunnel> lns;
  std::string secret;

  void make() {
    Tunnel::Hooks h;
    h.send = [this](const std::string& d) {
      auto m = parse_control(d, secret);
      ASSERT_TRUE(m.ok()) << m.error().message;
      got.push_back(*m);
    };
    h.session_up = [this](Tunnel&, const Tunnel::Session& s) { up.push_back(std::to_string(s.local_id)); };
    h.session_down = [this](Tunnel&, const Tunnel::Session&, const std::string& why) { down.push_back(why); };
    h.closed = [this](Tunnel&, const std::string& why) { closed.push_back(why); };
    lns = std::make_unique<Tunnel>(settings, 0x1234, h);
  }
  ControlMessage msg(std::vector<Avp> avps, uint16_t session = 0) {
    ControlMessage m;
    m.tunnel = 0x1234;  // ours
    m.session = session;
    m.avps = std::move(avps);
    m.ns = ns++;
    m.nr = lns ? lns->channel().next_ns() : 0;
    return m;
  }
  std::vector<Avp> sccrq(uint16_t version = 0x0100, const std::string& host = "lac") {
    return {type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(version)),
            make_avp(avp::kHostName, host), make_avp(avp::kFramingCapabilities, be32(3)),
            make_avp(avp::kAssignedTunnelId, be16(kLacTunnel)), make_avp(avp::kReceiveWindowSize, be16(4))};
  }
  void start(std::vector<Avp> avps) {
    make();
    ControlMessage m;
    m.avps = std::move(avps);
    m.ns = ns++;
    lns->start(m, now);
  }
  void send(std::vector<Avp> avps, uint16_t session = 0) { lns->receive(msg(std::move(avps), session), now); }
  void wait(milliseconds d) {
    const auto end = now + d;
    while (now < end) {
      now += milliseconds(50);
      lns->on_timer(now);
    }
  }
  const ControlMessage& last() const { return got.back(); }
  std::optional<MessageType> last_type() const {
    for (auto it = got.rbegin(); it != got.rend(); ++it) {
      if (!it->zlb()) return static_cast<MessageType>(*it->type());
    }
    return std::nullopt;
  }
  const ControlMessage* last_of(MessageType t) const {
    for (auto it = got.rbegin(); it != got.rend(); ++it) {
      if (!it->zlb() && it->type() == static_cast<uint16_t>(t)) return &*it;
    }
    return nullptr;
  }
  // Establishes a tunnel; returns our (the LAC's) view of it.
  void establish() {
    start(sccrq());
    send({type(MessageType::kScccn)});
    ASSERT_EQ(lns->state(), Tunnel::State::kEstablished);
  }
  uint16_t open_session(uint16_t lac_session = 77) {
    send({type(MessageType::kIcrq), make_avp(avp::kAssignedSessionId, be16(lac_session)),
          make_avp(avp::kCallSerialNumber, be32(1))});
    const ControlMessage* icrp = last_of(MessageType::kIcrp);
    EXPECT_NE(icrp, nullptr);
    EXPECT_EQ(icrp->session, lac_session);
    return icrp->find(avp::kAssignedSessionId)->u16().value_or(0);
  }
};

TEST(L2tpTunnel, HandshakeAnswersWithEveryRequiredAvp) {
  Lac lac;
  lac.start(lac.sccrq());
  const ControlMessage& sccrp = lac.last();
  ASSERT_EQ(sccrp.type(), uint16_t{2});
  EXPECT_EQ(sccrp.tunnel, kLacTunnel);  // the LAC's Assigned Tunnel ID
  EXPECT_EQ(sccrp.ns, 0);
  EXPECT_EQ(sccrp.nr, 1);               // acknowledges the SCCRQ
  EXPECT_EQ(sccrp.find(avp::kProtocolVersion)->u16(), uint16_t{0x0100});
  EXPECT_EQ(sccrp.find(avp::kAssignedTunnelId)->u16(), uint16_t{0x1234});
  EXPECT_EQ(sccrp.find(avp::kReceiveWindowSize)->u16(), uint16_t{16});  // as FITELnet advertises
  EXPECT_TRUE(sccrp.find(avp::kHostName) && sccrp.find(avp::kFramingCapabilities));
  EXPECT_EQ(sccrp.find(avp::kChallenge), nullptr);  // no secret, no challenge
  lac.send({type(MessageType::kScccn)});
  EXPECT_EQ(lac.lns->state(), Tunnel::State::kEstablished);
  lac.wait(milliseconds(200));
  EXPECT_TRUE(lac.last().zlb());  // the SCCCN acknowledged
  EXPECT_EQ(lac.last().nr, 2);
  EXPECT_EQ(lac.lns->peer_host(), "lac");
}

TEST(L2tpTunnel, TunnelAuthenticationBothWays) {
  Lac lac;
  lac.settings.secret = lac.secret = "tunnel secret";
  auto rq = lac.sccrq();
  rq.push_back(make_avp(avp::kChallenge, "0123456789abcdef"));
  lac.start(rq);
  const ControlMessage& sccrp = lac.last();
  // RFC 2661 §4.4.3: MD5(2 + secret + challenge), computed here on its own.
  EXPECT_EQ(sccrp.find(avp::kChallengeResponse)->value, md5(std::string("\x02") + "tunnel secret0123456789abcdef"));
  const std::string ours = sccrp.find(avp::kChallenge)->value;
  ASSERT_GE(ours.size(), 16u);
  lac.send({type(MessageType::kScccn), make_avp(avp::kChallengeResponse, md5(std::string("\x03") + "tunnel secret" + ours))});
  EXPECT_EQ(lac.lns->state(), Tunnel::State::kEstablished);

  Lac wrong;
  wrong.settings.secret = wrong.secret = "tunnel secret";
  wrong.start(wrong.sccrq());
  wrong.send({type(MessageType::kScccn), make_avp(avp::kChallengeResponse, md5("not it"))});
  ASSERT_EQ(wrong.last_type(), MessageType::kStopCcn);
  EXPECT_EQ(result_code(*wrong.last_of(MessageType::kStopCcn)), stopccn::kNotAuthorized);
  EXPECT_EQ(wrong.lns->state(), Tunnel::State::kStopping);
}

TEST(L2tpTunnel, RefusalsCarryTheirResultCodes) {
  Lac v2;
  v2.start(v2.sccrq(0x0200));
  ASSERT_EQ(v2.last_type(), MessageType::kStopCcn);
  const ControlMessage& stop = *v2.last_of(MessageType::kStopCcn);
  EXPECT_EQ(result_code(stop), stopccn::kBadVersion);
  EXPECT_EQ(stop.find(avp::kResultCode)->value.substr(2, 2), be16(0x0100));  // the version we speak

  Lac host;
  host.settings.peer_host_name = "fitelnet";
  host.start(host.sccrq(0x0100, "someone-else"));
  EXPECT_EQ(result_code(*host.last_of(MessageType::kStopCcn)), stopccn::kNotAuthorized);

  Lac challenged;  // asks us to authenticate; we have no secret
  auto rq = challenged.sccrq();
  rq.push_back(make_avp(avp::kChallenge, "0123456789abcdef"));
  challenged.start(rq);
  EXPECT_EQ(result_code(*challenged.last_of(MessageType::kStopCcn)), stopccn::kNotAuthorized);

  Lac missing;
  auto short_rq = missing.sccrq();
  short_rq.erase(short_rq.begin() + 2);  // no Host Name
  missing.start(short_rq);
  EXPECT_EQ(result_code(*missing.last_of(MessageType::kStopCcn)), stopccn::kGeneralError);

  Lac unknown;
  auto odd = unknown.sccrq();
  odd.push_back(make_avp(200, "x"));  // unknown, mandatory
  unknown.start(odd);
  const ControlMessage& s = *unknown.last_of(MessageType::kStopCcn);
  EXPECT_EQ(result_code(s), stopccn::kGeneralError);
  EXPECT_EQ(s.find(avp::kResultCode)->value.substr(2, 2), be16(error::kUnknownMandatoryAvp));

  Lac tolerated;  // unknown but not mandatory: ignored
  auto extra = tolerated.sccrq();
  extra.push_back(make_avp(200, "x", false));
  tolerated.start(extra);
  EXPECT_EQ(tolerated.last_type(), MessageType::kSccrp);
}

TEST(L2tpTunnel, IncomingCallSessionUpAndDown) {
  Lac lac;
  lac.establish();
  const uint16_t id = lac.open_session();
  ASSERT_NE(id, 0);
  EXPECT_TRUE(lac.up.empty());
  lac.send({type(MessageType::kIccn), make_avp(avp::kTxConnectSpeed, be32(100000000)),
            make_avp(avp::kFramingType, be32(1))},
           id);
  ASSERT_EQ(lac.up.size(), 1u);
  EXPECT_TRUE(lac.lns->sessions().at(id).established);
  lac.send({type(MessageType::kCdn), make_avp(avp::kResultCode, be16(cdn::kAdministrative)),
            make_avp(avp::kAssignedSessionId, be16(77))},
           id);
  ASSERT_EQ(lac.down.size(), 1u);
  EXPECT_NE(lac.down[0].find("result 3"), std::string::npos);
  EXPECT_TRUE(lac.lns->sessions().empty());
}

TEST(L2tpTunnel, AnIccnThatNeverComesEndsTheSession) {
  Lac lac;
  lac.settings.iccn_timeout = seconds(3);
  lac.establish();
  const uint16_t id = lac.open_session();
  lac.wait(milliseconds(3100));
  EXPECT_FALSE(lac.lns->sessions().count(id));
  const ControlMessage* cdn = lac.last_of(MessageType::kCdn);
  ASSERT_NE(cdn, nullptr);
  EXPECT_EQ(cdn->session, 77);
  EXPECT_EQ(lac.lns->counters().iccn_timeouts, 1u);
  EXPECT_TRUE(lac.down.empty());  // it never came up
}

TEST(L2tpTunnel, SessionLimitAndUnknownMandatoryAvpInASession) {
  Lac lac;
  lac.settings.max_sessions = 1;
  lac.establish();
  const uint16_t id = lac.open_session(1);
  lac.send({type(MessageType::kIcrq), make_avp(avp::kAssignedSessionId, be16(2)),
            make_avp(avp::kCallSerialNumber, be32(2))});
  const ControlMessage* refused = lac.last_of(MessageType::kCdn);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->session, 2);
  EXPECT_EQ(result_code(*refused), cdn::kNoResourcesNow);
  EXPECT_EQ(lac.lns->counters().sessions_refused, 1u);
  // A session message with an unknown mandatory AVP ends that session, not the tunnel.
  lac.send({type(MessageType::kIccn), make_avp(avp::kTxConnectSpeed, be32(1)), make_avp(avp::kFramingType, be32(1)),
            make_avp(300, "?")},
           id);
  EXPECT_FALSE(lac.lns->sessions().count(id));
  EXPECT_EQ(lac.lns->state(), Tunnel::State::kEstablished);
  // In a tunnel message it ends the tunnel.
  lac.send({type(MessageType::kHello), make_avp(300, "?")});
  EXPECT_EQ(lac.last_type(), MessageType::kStopCcn);
}

TEST(L2tpTunnel, HelloWhenQuietAndADeadLacClosesTheTunnel) {
  Lac lac;
  lac.settings.hello_interval = seconds(5);
  lac.establish();
  lac.wait(milliseconds(5100));
  EXPECT_EQ(lac.last_type(), MessageType::kHello);
  EXPECT_EQ(lac.lns->counters().hellos_sent, 1u);
  // Never acknowledged: 1+2+4+8+8 s of retransmissions, then closed.
  lac.wait(seconds(40));
  ASSERT_EQ(lac.closed.size(), 1u);
  EXPECT_EQ(lac.closed[0], "LAC unreachable");
  EXPECT_EQ(lac.lns->state(), Tunnel::State::kClosed);
}

TEST(L2tpTunnel, StopCcnFromTheLacTakesItsSessionsDown) {
  Lac lac;
  lac.establish();
  const uint16_t id = lac.open_session();
  lac.send({type(MessageType::kIccn), make_avp(avp::kTxConnectSpeed, be32(1)), make_avp(avp::kFramingType, be32(1))},
           id);
  lac.send({type(MessageType::kStopCcn), make_avp(avp::kAssignedTunnelId, be16(kLacTunnel)),
            make_avp(avp::kResultCode, be16(stopccn::kClear))});
  ASSERT_EQ(lac.down.size(), 1u);
  ASSERT_EQ(lac.closed.size(), 1u);
  EXPECT_NE(lac.closed[0].find("StopCCN from the LAC"), std::string::npos);
  lac.wait(milliseconds(200));
  EXPECT_TRUE(lac.last().zlb());  // the StopCCN acknowledged
  EXPECT_FALSE(lac.lns->finished());  // lingers to acknowledge retransmissions
  lac.wait(seconds(32));
  EXPECT_TRUE(lac.lns->finished());
}

TEST(L2tpTunnel, ARetransmittedSccrqIsOnlyAcknowledged) {
  Lac lac;
  lac.start(lac.sccrq());
  const size_t sent = lac.got.size();
  ControlMessage again;
  again.avps = lac.sccrq();
  again.ns = 0;  // the same Ns: a retransmission
  lac.lns->receive(again, lac.now);
  for (size_t i = sent; i < lac.got.size(); ++i) EXPECT_TRUE(lac.got[i].zlb());
  EXPECT_EQ(lac.lns->channel().counters().duplicates, 1u);
}

TEST(L2tpTunnel, NoScccnInTimeStopsTheTunnel) {
  Lac lac;
  lac.settings.setup_timeout = seconds(5);
  lac.start(lac.sccrq());
  ControlMessage zlb;  // the LAC acknowledges the SCCRP and says nothing more
  zlb.nr = 1;
  zlb.ns = 1;
  lac.lns->receive(zlb, lac.now);
  lac.wait(milliseconds(5100));
  EXPECT_EQ(lac.last_type(), MessageType::kStopCcn);
  EXPECT_EQ(result_code(*lac.last_of(MessageType::kStopCcn)), stopccn::kFsmError);
}

}  // namespace
}  // namespace mapgw::l2tp
