// The LNS end to end in one process: a scripted LAC with its PPP client
// dials in (SCCRQ … ICCN, LCP, PAP, IPCP), IP flows both ways, and the
// cascade and the limits behave as seed 004 §7 and the issue say.
#include <gtest/gtest.h>

#include "vpn/bytes.h"
#include "vpn/l2tp/codes.h"
#include "vpn/l2tp/lns.h"

namespace mapgw::l2tp {
namespace {

using Clock = Lns::Clock;
using std::chrono::milliseconds;

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

Avp type(MessageType t) { return make_avp(avp::kMessageType, be16(static_cast<uint16_t>(t))); }

std::string ipv4_packet(uint32_t src, uint32_t dst) {
  std::string p = hex("450000140000000040110000");
  p += be32(src) + be32(dst);
  return p;
}

struct Lab {
  ppp::FileUserDb users = *ppp::FileUserDb::parse("alice plain:wonderland\n", "users");
  Clock::time_point now{};
  std::map<std::string, std::vector<std::string>> sent;  // by peer
  std::vector<std::pair<uint32_t, std::string>> ups, downs;
  std::vector<std::string> tun;
  std::vector<ClientRoute> routes;
  std::vector<uint64_t> ipv6_ups, ipv6_downs;
  std::vector<std::pair<std::string, std::string>> closed;
  std::unique_ptr<Lns> lns;

  explicit Lab(size_t max_tunnels = 8, double rate = 100, const char* pool = "10.20.0.100-10.20.0.101",
               SingleSession single = SingleSession::kReplace, bool ipv6 = false) {
    LnsConfig c;
    c.single_session = single;
    if (ipv6) {
      c.prefix6 = "2001:db8:100::/56";
      c.dns6.push_back(Ipv6Address{0xfd, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53});
    }
    c.max_tunnels = max_tunnels;
    c.new_tunnels_per_second = rate;
    c.link.lcp.auth = {ppp::AuthMethod::kPap};
    c.link.ipv6 = ipv6;
    c.link.ipcp.local = 0x0a140001;
    Lns::Hooks h;
    h.send = [this](const std::string& peer, const std::string& d) { sent[peer].push_back(d); };
    h.client_up = [this](const ClientRoute& r) {
      ups.emplace_back(r.address, r.user);
      routes.push_back(r);
    };
    h.client_down = [this](const ClientRoute& r, const std::string& why) { downs.emplace_back(r.address, why); };
    h.tunnel_closed = [this](const std::string& peer, const std::string& why) { closed.emplace_back(peer, why); };
    h.client_ipv6_up = [this](const ClientRoute& r) { ipv6_ups.push_back(r.prefix6); };
    h.client_ipv6_down = [this](const ClientRoute& r, const std::string&) { ipv6_downs.push_back(r.prefix6); };
    h.to_tun = [this](std::string_view p) { tun.emplace_back(p); };
    lns = std::make_unique<Lns>(c, users, *AddressPool::parse(pool), h);
  }
};

// One LAC at @peer with its client.
struct Lac {
  Lab& lab;
  std::string peer;
  uint16_t my_tunnel, lns_tunnel = 0, lns_session = 0, ns = 0;
  size_t seen = 0;  // datagrams of ours already read

  Lac(Lab& l, std::string p, uint16_t id = 0x0101) : lab(l), peer(std::move(p)), my_tunnel(id) {}

  void control(std::vector<Avp> avps, uint16_t session = 0, uint16_t tunnel = 0xffff) {
    ControlMessage m;
    m.tunnel = tunnel == 0xffff ? lns_tunnel : tunnel;
    m.session = session;
    m.ns = ns++;
    m.nr = 0;
    for (auto& d : lab.sent[peer]) {
      auto c = parse_control(d, "");
      if (c && !c->zlb()) m.nr = static_cast<uint16_t>(c->ns + 1);
    }
    m.avps = std::move(avps);
    lab.lns->receive(peer, *encode_control(m, ""), lab.now);
  }
  void ppp(uint16_t protocol, uint8_t code, uint8_t id, const std::string& data) {
    ppp::Packet p;
    p.code = code;
    p.id = id;
    p.data = data;
    lab.lns->receive(peer, encode_data(lns_tunnel, lns_session, ppp::encode_frame(protocol, ppp::encode_packet(p))),
                     lab.now);
  }
  // Control messages and PPP packets the LNS sent us, newest last.
  std::vector<ControlMessage> controls() const {
    std::vector<ControlMessage> out;
    for (auto& d : lab.sent[peer]) {
      if (auto c = parse_control(d, ""); c && !c->zlb()) out.push_back(*c);
    }
    return out;
  }
  // The newest PPP packet of @protocol (with @code, when given) the LNS sent us.
  std::optional<ppp::Packet> last_ppp(uint16_t protocol, int code = -1) const {
    const auto& v = lab.sent[peer];
    for (auto it = v.rbegin(); it != v.rend(); ++it) {
      auto h = parse_header(*it);
      if (!h || h->control) continue;
      auto f = ppp::parse_frame(std::string_view(*it).substr(h->payload_at));
      if (!f || f->protocol != protocol) continue;
      auto p = ppp::parse_packet(f->info);
      if (code < 0 || p->code == code) return *p;
    }
    return std::nullopt;
  }
  void dial() {
    login();
    open_ipcp();
  }
  void login() {
    control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)), make_avp(avp::kHostName, "lac"),
             make_avp(avp::kFramingCapabilities, be32(3)), make_avp(avp::kAssignedTunnelId, be16(my_tunnel))},
            0, 0);
    ASSERT_FALSE(controls().empty());
    lns_tunnel = *controls().back().find(avp::kAssignedTunnelId)->u16();
    control({type(MessageType::kScccn)});
    control({type(MessageType::kIcrq), make_avp(avp::kAssignedSessionId, be16(0x0202)),
             make_avp(avp::kCallSerialNumber, be32(1))});
    lns_session = *controls().back().find(avp::kAssignedSessionId)->u16();
    control({type(MessageType::kIccn), make_avp(avp::kTxConnectSpeed, be32(1000000)),
             make_avp(avp::kFramingType, be32(1))},
            lns_session);
    // PPP: LCP both ways (the client first: the LNS waits), PAP, IPCP.
    ppp(ppp::proto::kLcp, ppp::code::kConfigureRequest, 1, hex("050601020304"));
    auto lcp = last_ppp(ppp::proto::kLcp, ppp::code::kConfigureRequest);
    ASSERT_TRUE(lcp);
    ppp(ppp::proto::kLcp, ppp::code::kConfigureAck, lcp->id, lcp->data);
    ppp(ppp::proto::kPap, 1, 1, std::string("\x05") + "alice" + std::string("\x0a") + "wonderland");
  }
  void open_ipcp() {
    ppp(ppp::proto::kIpcp, ppp::code::kConfigureRequest, 1, hex("030600000000"));
    auto nak = last_ppp(ppp::proto::kIpcp);
    ASSERT_TRUE(nak && nak->code == ppp::code::kConfigureNak);
    ppp(ppp::proto::kIpcp, ppp::code::kConfigureRequest, 2, nak->data);
    for (auto& d : lab.sent[peer]) {  // the LNS's own IPCP request: acknowledge it
      auto h = parse_header(d);
      if (!h || h->control) continue;
      auto f = ppp::parse_frame(std::string_view(d).substr(h->payload_at));
      if (!f || f->protocol != ppp::proto::kIpcp) continue;
      auto p = ppp::parse_packet(f->info);
      if (p->code == ppp::code::kConfigureRequest) ppp(ppp::proto::kIpcp, ppp::code::kConfigureAck, p->id, p->data);
    }
  }
};

TEST(Lns, DialInThenIpBothWaysThenTheCascade) {
  Lab lab;
  Lac lac(lab, "[2001:db8::7]:1701");
  lac.dial();
  ASSERT_EQ(lab.ups.size(), 1u);
  EXPECT_EQ(ipv4_string(lab.ups[0].first), "10.20.0.100");
  EXPECT_EQ(lab.ups[0].second, "alice");
  auto s = lab.lns->sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].phase, "network");
  // Client → TUN, only from its own address.
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session,
                                             ppp::encode_frame(ppp::proto::kIpv4, ipv4_packet(0x0a140064, 0x0a0a0001))),
                       lab.now);
  ASSERT_EQ(lab.tun.size(), 1u);
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session,
                                             ppp::encode_frame(ppp::proto::kIpv4, ipv4_packet(0x0a140099, 0x0a0a0001))),
                       lab.now);
  EXPECT_EQ(lab.tun.size(), 1u);  // a spoofed source: dropped
  // TUN → client.
  const size_t before = lab.sent[lac.peer].size();
  lab.lns->from_tun(ipv4_packet(0x0a0a0001, 0x0a140064), lab.now);
  ASSERT_EQ(lab.sent[lac.peer].size(), before + 1);
  EXPECT_NE(lab.sent[lac.peer].back().find(ipv4_packet(0x0a0a0001, 0x0a140064)), std::string::npos);
  // The client hangs up PPP: Terminate-Ack, then (after RFC 1661's
  // Stopping time) CDN, and StopCCN since it was the last session.
  lac.ppp(ppp::proto::kLcp, ppp::code::kTerminateRequest, 9, "");
  EXPECT_EQ(lac.last_ppp(ppp::proto::kLcp)->code, ppp::code::kTerminateAck);
  lab.now += std::chrono::seconds(4);
  lab.lns->on_timer(lab.now);
  auto c = lac.controls();
  ASSERT_GE(c.size(), 2u);
  EXPECT_EQ(c[c.size() - 2].type(), static_cast<uint16_t>(MessageType::kCdn));
  EXPECT_EQ(c.back().type(), static_cast<uint16_t>(MessageType::kStopCcn));
  ASSERT_EQ(lab.downs.size(), 1u);
  EXPECT_TRUE(lab.lns->sessions().empty());
}

TEST(Lns, RetransmittedSccrqWrongSourceAndLimits) {
  Lab lab(/*max_tunnels=*/1);
  Lac lac(lab, "[2001:db8::7]:1701");
  lac.control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)), make_avp(avp::kHostName, "lac"),
               make_avp(avp::kFramingCapabilities, be32(3)), make_avp(avp::kAssignedTunnelId, be16(0x0101))},
              0, 0);
  lac.ns = 0;  // the same SCCRQ again
  lac.control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)), make_avp(avp::kHostName, "lac"),
               make_avp(avp::kFramingCapabilities, be32(3)), make_avp(avp::kAssignedTunnelId, be16(0x0101))},
              0, 0);
  EXPECT_EQ(lab.lns->tunnels(), 1u);
  EXPECT_EQ(lac.controls().size(), 1u);  // one SCCRP
  // Another host using that tunnel's ID: dropped, counted.
  Lac other(lab, "[2001:db8::66]:1701");
  other.lns_tunnel = *lac.controls().back().find(avp::kAssignedTunnelId)->u16();
  other.control({type(MessageType::kHello)});
  EXPECT_EQ(lab.lns->counters().wrong_source, 1u);
  // A second tunnel over the limit: no answer.
  Lac second(lab, "[2001:db8::8]:1701", 0x0303);
  second.control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)),
                  make_avp(avp::kHostName, "lac"), make_avp(avp::kFramingCapabilities, be32(3)),
                  make_avp(avp::kAssignedTunnelId, be16(0x0303))},
                 0, 0);
  EXPECT_EQ(lab.lns->counters().tunnels_refused, 1u);
  EXPECT_TRUE(second.controls().empty());
  // Garbage counts too.
  lab.lns->receive("[2001:db8::9]:1701", "not l2tp", lab.now);
  EXPECT_EQ(lab.lns->counters().bad_datagrams, 1u);
}

TEST(Lns, SccrqFloodIsRateLimited) {
  Lab lab(/*max_tunnels=*/100, /*rate=*/5);
  for (int i = 0; i < 20; ++i) {
    Lac lac(lab, "[2001:db8::" + std::to_string(i + 1) + "]:1701", static_cast<uint16_t>(i + 1));
    lac.control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)),
                 make_avp(avp::kHostName, "lac"), make_avp(avp::kFramingCapabilities, be32(3)),
                 make_avp(avp::kAssignedTunnelId, be16(static_cast<uint16_t>(i + 1)))},
                0, 0);
  }
  EXPECT_EQ(lab.lns->tunnels(), 5u);
  EXPECT_EQ(lab.lns->counters().tunnels_rate_limited, 15u);
}

TEST(Lns, AnExhaustedPoolRefusesTheSession) {
  Lab lab(8, 100, "10.20.0.100-10.20.0.100");
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  ASSERT_EQ(lab.ups.size(), 1u);
  Lac b(lab, "[2001:db8::8]:1701", 2);
  b.control({type(MessageType::kSccrq), make_avp(avp::kProtocolVersion, be16(0x0100)), make_avp(avp::kHostName, "lac"),
             make_avp(avp::kFramingCapabilities, be32(3)), make_avp(avp::kAssignedTunnelId, be16(2))},
            0, 0);
  b.lns_tunnel = *b.controls().back().find(avp::kAssignedTunnelId)->u16();
  b.control({type(MessageType::kScccn)});
  b.control({type(MessageType::kIcrq), make_avp(avp::kAssignedSessionId, be16(7)), make_avp(avp::kCallSerialNumber, be32(1))});
  b.lns_session = *b.controls().back().find(avp::kAssignedSessionId)->u16();
  b.control({type(MessageType::kIccn), make_avp(avp::kTxConnectSpeed, be32(1)), make_avp(avp::kFramingType, be32(1))},
            b.lns_session);
  // CDN 4 (no resources), then the tunnel, which carried nothing else.
  auto c = b.controls();
  ASSERT_GE(c.size(), 2u);
  EXPECT_EQ(c[c.size() - 2].type(), static_cast<uint16_t>(MessageType::kCdn));
  EXPECT_EQ(c.back().type(), static_cast<uint16_t>(MessageType::kStopCcn));
  EXPECT_EQ(lab.lns->counters().sessions_refused, 1u);
}

TEST(Lns, TheRouteCarriesWhatTheDataPathNeeds) {
  Lab lab;
  Lac lac(lab, "[2001:db8::7]:1701", 0x0101);
  lac.dial();
  ASSERT_EQ(lab.routes.size(), 1u);
  const ClientRoute& r = lab.routes[0];
  EXPECT_EQ(r.peer, "[2001:db8::7]:1701");
  EXPECT_EQ(r.peer_tunnel, 0x0101);
  EXPECT_EQ(r.peer_session, 0x0202);
  EXPECT_EQ(r.tunnel, lac.lns_tunnel);
  EXPECT_EQ(r.session, lac.lns_session);
  EXPECT_EQ(r.user, "alice");
  EXPECT_EQ(r.peer_mru, 1500);  // the client asked for none
  lab.lns->add_bytes(r.tunnel, r.session, 1000, 2000);
  auto s = lab.lns->sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_GE(s[0].bytes_in, 1000u);
  EXPECT_GE(s[0].bytes_out, 2000u);
}

TEST(Lns, ASecondLoginReplacesTheFirstByDefault) {
  Lab lab;
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  Lac b(lab, "[2001:db8::8]:1701", 2);
  b.dial();
  EXPECT_EQ(lab.lns->counters().sessions_replaced, 1u);
  ASSERT_EQ(lab.ups.size(), 2u);
  // The first session got LCP Terminate-Request; answered, it is gone.
  auto term = a.last_ppp(ppp::proto::kLcp);
  ASSERT_TRUE(term);
  EXPECT_EQ(term->code, ppp::code::kTerminateRequest);
  a.ppp(ppp::proto::kLcp, ppp::code::kTerminateAck, term->id, "");
  auto s = lab.lns->sessions();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].peer, b.peer);
}

TEST(Lns, ASecondLoginIsRefusedWithDeny) {
  Lab lab(8, 100, "10.20.0.100-10.20.0.101", SingleSession::kDeny);
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  Lac b(lab, "[2001:db8::8]:1701", 2);
  b.login();
  EXPECT_EQ(lab.lns->counters().duplicate_logins_refused, 1u);
  EXPECT_EQ(lab.ups.size(), 1u);  // only the first got an address routed
  auto term = b.last_ppp(ppp::proto::kLcp);
  ASSERT_TRUE(term);
  EXPECT_EQ(term->code, ppp::code::kTerminateRequest);
}

TEST(Lns, TheLacsCdnForTheLastSessionClosesTheTunnel) {
  Lab lab;
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  a.control({type(MessageType::kCdn), make_avp(avp::kResultCode, be16(1)), make_avp(avp::kAssignedSessionId, be16(0x0202))},
            a.lns_session);
  EXPECT_TRUE(lab.lns->sessions().empty());
  ASSERT_EQ(lab.downs.size(), 1u);
  EXPECT_EQ(a.controls().back().type(), static_cast<uint16_t>(MessageType::kStopCcn));
}

TEST(Lns, ClosingATunnelEndsItsSessionsAndTellsTheOwner) {
  Lab lab;
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  ASSERT_EQ(lab.lns->tunnel_list().size(), 1u);
  EXPECT_EQ(lab.lns->tunnel_list()[0].state, "established");
  EXPECT_TRUE(lab.lns->close_tunnel(a.lns_tunnel, "IKE SA down", lab.now));
  EXPECT_TRUE(lab.lns->sessions().empty());
  ASSERT_EQ(lab.downs.size(), 1u);
  EXPECT_EQ(a.controls().back().type(), static_cast<uint16_t>(MessageType::kStopCcn));
  a.control({}, 0);  // a ZLB acknowledging the StopCCN
  ASSERT_EQ(lab.closed.size(), 1u);
  EXPECT_EQ(lab.closed[0].first, a.peer);
  EXPECT_FALSE(lab.lns->close_tunnel(0x4242, "no such", lab.now));
}

TEST(Lns, ATunnelWhoseIpsecIsGoneClosesAtOnce) {
  Lab lab;
  Lac a(lab, "[2001:db8::7]:1701", 1);
  a.dial();
  EXPECT_TRUE(lab.lns->close_tunnel(a.lns_tunnel, "IKE SA deleted", lab.now, /*at_once=*/true));
  EXPECT_EQ(a.controls().back().type(), static_cast<uint16_t>(MessageType::kStopCcn));  // said once
  ASSERT_EQ(lab.closed.size(), 1u);  // without waiting for its acknowledgement
  EXPECT_EQ(lab.lns->tunnel_list()[0].state, "closed");
}

// An IPv6 packet (no payload) from @src to @dst, 16 bytes each.
std::string ipv6_packet(const std::string& src, const std::string& dst, uint8_t next = 59, uint8_t hops = 64) {
  return hex("60000000") + be16(0) + std::string(1, static_cast<char>(next)) + std::string(1, static_cast<char>(hops)) +
         src + dst;
}

TEST(Lns, Ipv6InsideASessionItsPrefixAdvertisedAndRouted) {
  Lab lab(8, 100, "10.20.0.100-10.20.0.101", SingleSession::kReplace, /*ipv6=*/true);
  Lac lac(lab, "[2001:db8::7]:1701");
  lac.dial();
  // IPV6CP: ours acknowledged, theirs (interface identifier 1) acknowledged.
  lac.ppp(ppp::proto::kIpv6cp, ppp::code::kConfigureRequest, 1, hex("010a0000000000000001"));
  auto req = lac.last_ppp(ppp::proto::kIpv6cp, ppp::code::kConfigureRequest);
  ASSERT_TRUE(req);
  lac.ppp(ppp::proto::kIpv6cp, ppp::code::kConfigureAck, req->id, req->data);
  ASSERT_EQ(lab.ipv6_ups, std::vector<uint64_t>{0x20010db801000000ull});  // the first /64 of the /56
  EXPECT_EQ(lab.lns->sessions()[0].prefix6, 0x20010db801000000ull);
  // The Router Advertisement: ICMPv6 134 from fe80::<our IID> carrying the
  // prefix (L, A) and the RDNSS option.
  std::string ra;
  for (auto& d : lab.sent[lac.peer]) {
    auto h = parse_header(d);
    if (!h || h->control) continue;
    auto f = ppp::parse_frame(std::string_view(d).substr(h->payload_at));
    if (f && f->protocol == ppp::proto::kIpv6) ra = std::string(f->info);
  }
  ASSERT_GE(ra.size(), 40u + 16 + 8 + 32 + 24);
  EXPECT_EQ(static_cast<uint8_t>(ra[40]), 134);
  EXPECT_EQ(ra.substr(8, 2), hex("fe80"));
  EXPECT_EQ(ra.substr(24, 16), hex("ff020000000000000000000000000001"));
  EXPECT_NE(ra.find(hex("030440c0")), std::string::npos);  // Prefix Information: /64, L and A
  EXPECT_NE(ra.find(hex("20010db801000000")), std::string::npos);
  EXPECT_NE(ra.find(hex("fd000030000000000000000000000053")), std::string::npos);
  // From the client: its /64 goes to TUN; another source is spoofed; its
  // link-local traffic stays on the link.
  const std::string mine = hex("20010db801000000000000000000000a"), lan = hex("fd000030000000000000000000000001");
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session,
                                             ppp::encode_frame(ppp::proto::kIpv6, ipv6_packet(mine, lan))),
                       lab.now);
  ASSERT_EQ(lab.tun.size(), 1u);
  const uint64_t spoofed = lab.lns->counters().spoofed;
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session,
                                             ppp::encode_frame(ppp::proto::kIpv6,
                                                               ipv6_packet(hex("20010db8010000010000000000000001"), lan))),
                       lab.now);
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session,
                                             ppp::encode_frame(ppp::proto::kIpv6,
                                                               ipv6_packet(hex("fe800000000000000000000000000001"), lan))),
                       lab.now);
  EXPECT_EQ(lab.tun.size(), 1u);
  EXPECT_EQ(lab.lns->counters().spoofed, spoofed + 1);
  // A Router Solicitation is answered.
  const uint64_t ras = lab.lns->counters().router_advertisements;
  std::string rs = ipv6_packet(hex("fe800000000000000000000000000001"), hex("ff020000000000000000000000000002"), 58, 255);
  rs[5] = 8;
  rs += hex("8500000000000000");
  lac.lab.lns->receive(lac.peer, encode_data(lac.lns_tunnel, lac.lns_session, ppp::encode_frame(ppp::proto::kIpv6, rs)),
                       lab.now);
  EXPECT_EQ(lab.lns->counters().router_advertisements, ras + 1);
  // TUN → the client by its /64.
  const size_t before = lab.sent[lac.peer].size();
  lab.lns->from_tun(ipv6_packet(lan, mine), lab.now);
  EXPECT_EQ(lab.sent[lac.peer].size(), before + 1);
  // Periodic advertisements.
  lab.now += std::chrono::seconds(601);
  lab.lns->on_timer(lab.now);
  EXPECT_EQ(lab.lns->counters().router_advertisements, ras + 2);
  // The session ends: the /64 is withdrawn and free again.
  lac.ppp(ppp::proto::kLcp, ppp::code::kTerminateRequest, 9, "");
  lab.now += std::chrono::seconds(4);
  lab.lns->on_timer(lab.now);
  EXPECT_EQ(lab.ipv6_downs, lab.ipv6_ups);
}

TEST(PrefixPool, SlashSixtyFoursFromAShorterPrefix) {
  auto p = PrefixPool::parse("2001:db8:100::/56");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 256u);
  EXPECT_EQ(*p->take(), 0x20010db801000000ull);
  EXPECT_EQ(*p->take(), 0x20010db801000001ull);
  p->give_back(0x20010db801000000ull);
  EXPECT_EQ(*p->take(), 0x20010db801000000ull);
  EXPECT_EQ(prefix64_string(0x20010db801000001ull), "2001:db8:100:1::/64");
  auto one = PrefixPool::parse("2001:db8:1:2::/64");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->take());
  EXPECT_FALSE(one->take());  // exhausted
  EXPECT_EQ(PrefixPool::parse("2001:db8::/32")->size(), PrefixPool::kMaxPrefixes);
  for (const char* bad : {"2001:db8::", "2001:db8::/65", "2001:db8::/31", "2001:db8::1/64", "10.0.0.0/8", "x/56",
                          "2001:db8:100:ff01::/56"}) {
    EXPECT_FALSE(PrefixPool::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace mapgw::l2tp
