#include "vpn/ppp/packet.h"

#include "vpn/bytes.h"

namespace mapgw::ppp {
namespace {

using bytes::be16;
using bytes::rd16;

}  // namespace

Result<Packet> parse_packet(std::string_view in) {
  if (in.size() < 4) return make_error("PPP packet of " + std::to_string(in.size()) + " bytes");
  const uint16_t len = rd16(in, 2);
  if (len < 4 || len > in.size()) {
    return make_error("PPP packet length " + std::to_string(len) + " in " + std::to_string(in.size()) + " bytes");
  }
  Packet p;
  p.code = static_cast<uint8_t>(in[0]);
  p.id = static_cast<uint8_t>(in[1]);
  p.data = std::string(in.substr(4, len - 4));
  return p;
}

std::string encode_packet(const Packet& p) {
  return std::string{static_cast<char>(p.code), static_cast<char>(p.id)} +
         be16(static_cast<uint16_t>(4 + p.data.size())) + p.data;
}

Result<std::vector<Option>> parse_options(std::string_view data) {
  std::vector<Option> out;
  size_t at = 0;
  while (at < data.size()) {
    if (data.size() - at < 2) return make_error("PPP option cut at byte " + std::to_string(at));
    const uint8_t type = static_cast<uint8_t>(data[at]);
    const size_t len = static_cast<uint8_t>(data[at + 1]);
    if (len < 2 || len > data.size() - at) {
      return make_error("PPP option " + std::to_string(type) + " of length " + std::to_string(len) + " at byte " +
                        std::to_string(at));
    }
    out.push_back({type, std::string(data.substr(at + 2, len - 2))});
    at += len;
  }
  return out;
}

std::string encode_options(const std::vector<Option>& options) {
  std::string out;
  for (const auto& o : options) {
    out += static_cast<char>(o.type);
    out += static_cast<char>(o.value.size() + 2);
    out += o.value;
  }
  return out;
}

std::optional<Frame> parse_frame(std::string_view in) {
  if (in.size() >= 2 && static_cast<uint8_t>(in[0]) == 0xff && static_cast<uint8_t>(in[1]) == 0x03) {
    in.remove_prefix(2);
  }
  if (in.empty()) return std::nullopt;
  Frame f;
  // A compressed protocol field is one odd byte (RFC 1661 §6.5).
  if (static_cast<uint8_t>(in[0]) & 1) {
    f.protocol = static_cast<uint8_t>(in[0]);
    f.info = in.substr(1);
    return f;
  }
  if (in.size() < 2 || !(static_cast<uint8_t>(in[1]) & 1)) return std::nullopt;  // protocol numbers end odd
  f.protocol = rd16(in, 0);
  f.info = in.substr(2);
  return f;
}

std::string encode_frame(uint16_t protocol, std::string_view info, bool acfc, bool pfc) {
  const bool control = protocol >= 0x8000;  // LCP, NCPs, authentication: never compressed
  std::string out = acfc && !control ? std::string() : std::string("\xff\x03", 2);
  if (pfc && !control && protocol < 0x100) {
    out += static_cast<char>(protocol);
  } else {
    out += be16(protocol);
  }
  out += info;
  return out;
}

}  // namespace mapgw::ppp
