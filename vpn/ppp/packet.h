// PPP control packets (RFC 1661 §5) and their options (§6): code,
// identifier, length, data; options as type, length, value. One codec for
// LCP, IPCP and IPV6CP (and the authentication protocols' framing), which
// refuses lengths that disagree with the bytes instead of trusting them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"

namespace mapgw::ppp {

// Protocol numbers (RFC 1661 §2, RFC 1332, RFC 5072, RFC 1334, RFC 1994).
namespace proto {
constexpr uint16_t kIpv4 = 0x0021, kIpv6 = 0x0057, kLcp = 0xc021, kIpcp = 0x8021, kIpv6cp = 0x8057,
                   kPap = 0xc023, kChap = 0xc223;
}

// Codes shared by the option-negotiating protocols (RFC 1661 §5).
namespace code {
constexpr uint8_t kConfigureRequest = 1, kConfigureAck = 2, kConfigureNak = 3, kConfigureReject = 4,
                  kTerminateRequest = 5, kTerminateAck = 6, kCodeReject = 7, kProtocolReject = 8,  // LCP only
    kEchoRequest = 9, kEchoReply = 10, kDiscardRequest = 11;                                          // LCP only
}

struct Packet {
  uint8_t code = 0, id = 0;
  std::string data;  // after the 4-byte header, cut to the length field
};

// The packet in @in (a PPP frame's information field, after the protocol
// number). Bytes past the length field are padding and dropped (§5).
Result<Packet> parse_packet(std::string_view in);
std::string encode_packet(const Packet& p);

struct Option {
  uint8_t type = 0;
  std::string value;
  bool operator==(const Option& o) const { return type == o.type && value == o.value; }
};

// Configure-* data: a list of options; a length under 2 or past the end
// is an error (the packet is then silently discarded, §5.2).
Result<std::vector<Option>> parse_options(std::string_view data);
std::string encode_options(const std::vector<Option>& options);

// A PPP frame as L2TP carries it (RFC 2661 §2: no HDLC flags or FCS):
// an optional ff 03 address/control, then the protocol number (one byte
// when compressed, PFC), then the information field.
struct Frame {
  uint16_t protocol = 0;
  std::string_view info;
};
std::optional<Frame> parse_frame(std::string_view in);
// Always with ff 03 and a two-byte protocol for control protocols (RFC
// 1661 §6.5/6.6: LCP is never compressed).
std::string encode_frame(uint16_t protocol, std::string_view info, bool acfc = false, bool pfc = false);

}  // namespace mapgw::ppp
