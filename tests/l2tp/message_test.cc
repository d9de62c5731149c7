// The L2TP codec against bytes written out by hand from RFC 2661 §3.1 and
// §4.1, and hidden AVPs (§4.3) against values computed independently with
// Python's hashlib (the computation is in the comment of each).
#include <gtest/gtest.h>

#include "vpn/bytes.h"
#include "vpn/l2tp/message.h"

namespace mapgw::l2tp {
namespace {

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

// An SCCRQ: Message Type 1, Protocol Version 1.0, Host Name "lac",
// Framing Capabilities 3, Assigned Tunnel ID 0x1234; Ns 0, Nr 0.
const char* kSccrq =
    "c8020037" "00000000" "00000000"  // T L S ver 2, length 55, tunnel 0, session 0, Ns 0, Nr 0
    "8008" "0000" "0000" "0001"       // M, length 8, vendor 0, type 0 (Message Type): SCCRQ
    "8008" "0000" "0002" "0100"       // Protocol Version 1.0
    "8009" "0000" "0007" "6c6163"     // Host Name "lac"
    "800a" "0000" "0003" "00000003"   // Framing Capabilities: sync and async
    "8008" "0000" "0009" "1234";      // Assigned Tunnel ID

TEST(L2tpMessage, DecodesAnSccrqByteForByte) {
  auto m = parse_control(hex(kSccrq), "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->type(), uint16_t{1});
  EXPECT_EQ(m->avps.size(), 5u);
  EXPECT_EQ(m->find(avp::kProtocolVersion)->u16(), uint16_t{0x0100});
  EXPECT_EQ(m->find(avp::kHostName)->value, "lac");
  EXPECT_EQ(m->find(avp::kFramingCapabilities)->u32(), uint32_t{3});
  EXPECT_EQ(m->find(avp::kAssignedTunnelId)->u16(), uint16_t{0x1234});
  EXPECT_TRUE(m->find(avp::kHostName)->mandatory);
}

TEST(L2tpMessage, EncodesTheSameBytes) {
  ControlMessage m;
  m.avps = {make_avp(avp::kMessageType, be16(1)), make_avp(avp::kProtocolVersion, be16(0x0100)),
            make_avp(avp::kHostName, "lac"), make_avp(avp::kFramingCapabilities, be32(3)),
            make_avp(avp::kAssignedTunnelId, be16(0x1234))};
  auto wire = encode_control(m, "");
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(*wire, hex(kSccrq));
}

TEST(L2tpMessage, ZlbIsAHeaderAlone) {
  ControlMessage zlb;
  zlb.tunnel = 0x1234;
  zlb.ns = 3;
  zlb.nr = 7;
  auto wire = encode_control(zlb, "");
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(*wire, hex("c802000c123400000003" "0007"));
  auto back = parse_control(*wire, "");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->zlb());
  EXPECT_EQ(back->nr, 7);
}

TEST(L2tpMessage, DataHeaderWithAndWithoutOptionalFields) {
  // T=0 L=1: length, tunnel, session, then PPP (ff 03 c0 21 ...).
  auto h = parse_header(hex("4002000c00050006ff03c021"));
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->control);
  EXPECT_EQ(h->tunnel, 5);
  EXPECT_EQ(h->session, 6);
  EXPECT_EQ(h->payload_at, 8u);
  // No L, S set, an offset of 2 bytes of pad (xl2tpd may send sequence numbers).
  h = parse_header(hex("0a02" "0005" "0006" "0001" "0000" "0002" "abcd" "ff03"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_TRUE(h->has_sequence);
  EXPECT_EQ(h->ns, 1);
  EXPECT_EQ(h->payload_at, 14u);
  EXPECT_EQ(encode_data(5, 6, hex("ff03c021")), hex("4002000c00050006ff03c021"));
}

TEST(L2tpMessage, RefusesWhatTheRfcForbids) {
  EXPECT_FALSE(parse_header(hex("c803000c")).ok());                        // cut
  EXPECT_FALSE(parse_header(hex("c003000c0000000000000000")).ok());        // version 3
  EXPECT_FALSE(parse_header(hex("8802000c0000000000000000")).ok());        // control without L
  EXPECT_FALSE(parse_header(hex("c802ffff0000000000000000")).ok());        // length past the datagram
  EXPECT_FALSE(parse_header(hex("c80200080000000000000000")).ok());        // length inside the header
  EXPECT_FALSE(parse_header(hex("4202000c0000000000ff")).ok());            // offset pad past the end
  // AVPs: a length under 6, one past the end, a header cut short.
  EXPECT_FALSE(parse_control(hex("c8020012" "00000000" "00000000" "8004000000000001"), "").ok());
  EXPECT_FALSE(parse_control(hex("c8020014" "00000000" "00000000" "80ff00000000000100"), "").ok());
  EXPECT_FALSE(parse_control(hex("c8020010" "00000000" "00000000" "8008"), "").ok());
  // The Message Type first, mandatory, 2 bytes.
  EXPECT_FALSE(parse_control(hex("c8020014" "00000000" "00000000" "8008000000070001"), "").ok());
  EXPECT_FALSE(parse_control(hex("c8020014" "00000000" "00000000" "0008000000000001"), "").ok());
  EXPECT_FALSE(parse_control(hex("c8020015" "00000000" "00000000" "800900000000000001"), "").ok());
}

TEST(L2tpAvp, HiddenValuesMatchAnIndependentComputation) {
  const std::string secret = "tunnel-secret";
  std::string vector;
  for (int i = 0; i < 16; ++i) vector += static_cast<char>(i);
  // hashlib.md5(b"\x00\x09" + secret + vector) XOR b"\x00\x02\x12\x34"
  EXPECT_EQ(hide_value(avp::kAssignedTunnelId, be16(0x1234), secret, vector), hex("d8c38ab3"));
  // Two blocks: the second key is MD5(secret + the first cipher block).
  EXPECT_EQ(hide_value(avp::kHostName, "lns.example.ne.jp...", secret, vector),
            hex("50873607b2b7c5b2f71a2983ea58d3d8ceb34da88194"));
  auto back = reveal_value(avp::kHostName, hex("50873607b2b7c5b2f71a2983ea58d3d8ceb34da88194"), secret, vector);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "lns.example.ne.jp...");
  // A wrong secret shows as a length past the value, not as garbage.
  EXPECT_FALSE(reveal_value(avp::kHostName, hex("50873607b2b7c5b2f71a2983ea58d3d8ceb34da88194"), "other", vector).ok());
}

TEST(L2tpAvp, HiddenAvpsRoundTripInAMessage) {
  ControlMessage m;
  Avp hidden = make_avp(avp::kAssignedTunnelId, be16(0xbeef));
  hidden.hidden = true;
  m.avps = {make_avp(avp::kMessageType, be16(1)), make_avp(avp::kRandomVector, "0123456789abcdef"), hidden};
  auto wire = encode_control(m, "s3cret");
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  EXPECT_EQ(wire->find(std::string("\xbe\xef", 2)), std::string::npos);  // not in the clear
  auto back = parse_control(*wire, "s3cret");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->find(avp::kAssignedTunnelId)->hidden);
  EXPECT_EQ(back->find(avp::kAssignedTunnelId)->u16(), uint16_t{0xbeef});
  EXPECT_FALSE(parse_control(*wire, "").ok());  // no secret
  // Hiding needs a Random Vector before the AVP.
  m.avps.erase(m.avps.begin() + 1);
  EXPECT_FALSE(encode_control(m, "s3cret").ok());
}

}  // namespace
}  // namespace mapgw::l2tp
