#include "vpn/vici/packet.h"

namespace mapgw::vici {

bool has_name(PacketType t) {
  return t == PacketType::kCmdRequest || t == PacketType::kEventRegister ||
         t == PacketType::kEventUnregister || t == PacketType::kEvent;
}

Result<std::string> frame(const Packet& p) {
  auto body = p.message.encode();
  if (!body) return body.error();
  std::string seg;
  seg += static_cast<char>(p.type);
  if (has_name(p.type)) {
    if (p.name.size() > 255) return make_error("VICI packet name longer than 255 bytes");
    seg += static_cast<char>(p.name.size());
    seg += p.name;
  }
  seg += *body;
  if (seg.size() > kMaxSegment) return make_error("VICI packet over 512 KiB");
  std::string out;
  const uint32_t n = static_cast<uint32_t>(seg.size());
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
  return out + seg;
}

Result<std::optional<Packet>> PacketReader::next() {
  if (buf_.size() < 4) return std::optional<Packet>();
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = n << 8 | static_cast<uint8_t>(buf_[i]);
  if (n == 0 || n > kMaxSegment) return make_error("VICI segment length " + std::to_string(n) + " out of range");
  if (buf_.size() < 4 + n) return std::optional<Packet>();
  std::string_view seg(buf_.data() + 4, n);
  Packet p;
  const uint8_t type = static_cast<uint8_t>(seg[0]);
  if (type > static_cast<uint8_t>(PacketType::kEvent)) {
    return make_error("VICI packet type " + std::to_string(type) + " unknown");
  }
  p.type = static_cast<PacketType>(type);
  size_t at = 1;
  if (has_name(p.type)) {
    if (seg.size() < 2 || seg.size() < 2u + static_cast<uint8_t>(seg[1])) return make_error("VICI packet name truncated");
    p.name.assign(seg.substr(2, static_cast<uint8_t>(seg[1])));
    at = 2 + p.name.size();
  }
  auto msg = Message::decode(seg.substr(at));
  if (!msg) return msg.error();
  p.message = std::move(*msg);
  buf_.erase(0, 4 + n);
  return std::optional<Packet>(std::move(p));
}

}  // namespace mapgw::vici
