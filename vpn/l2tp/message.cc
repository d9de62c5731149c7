#include "vpn/l2tp/message.h"

namespace mapgw::l2tp {
namespace {

constexpr uint16_t kT = 0x8000, kL = 0x4000, kS = 0x0800, kO = 0x0200, kP = 0x0100, kVersionMask = 0x000f;

using bytes::rd16;

}  // namespace

Result<Header> parse_header(std::string_view p) {
  if (p.size() < 6) return make_error("L2TP header cut: " + std::to_string(p.size()) + " bytes");
  const uint16_t bits = rd16(p, 0);
  const unsigned version = bits & kVersionMask;
  if (version != 2) return make_error("L2TP version " + std::to_string(version) + " (only 2)");
  Header h;
  h.control = bits & kT;
  h.has_length = bits & kL;
  h.has_sequence = bits & kS;
  h.has_offset = bits & kO;
  h.priority = bits & kP;
  if (h.control && (!h.has_length || !h.has_sequence || h.has_offset)) {
    return make_error("control message without L and S or with O (RFC 2661 §3.1)");
  }
  size_t at = 2;
  auto need = [&](size_t n) { return p.size() >= at + n; };
  if (h.has_length) {
    if (!need(2)) return make_error("L2TP header cut before its length");
    h.length = rd16(p, at);
    at += 2;
    if (h.length > p.size()) {
      return make_error("L2TP length " + std::to_string(h.length) + " past the " + std::to_string(p.size()) +
                        "-byte datagram");
    }
  }
  if (!need(4)) return make_error("L2TP header cut before its tunnel and session IDs");
  h.tunnel = rd16(p, at);
  h.session = rd16(p, at + 2);
  at += 4;
  if (h.has_sequence) {
    if (!need(4)) return make_error("L2TP header cut before Ns/Nr");
    h.ns = rd16(p, at);
    h.nr = rd16(p, at + 2);
    at += 4;
  }
  if (h.has_offset) {
    if (!need(2)) return make_error("L2TP header cut before its offset size");
    const size_t pad = rd16(p, at);
    at += 2;
    if (!need(pad)) return make_error("L2TP offset pad of " + std::to_string(pad) + " past the end");
    at += pad;
  }
  if (h.has_length && h.length < at) {
    return make_error("L2TP length " + std::to_string(h.length) + " shorter than its " + std::to_string(at) +
                      "-byte header");
  }
  h.payload_at = at;
  return h;
}

std::optional<uint16_t> ControlMessage::type() const {
  if (avps.empty()) return std::nullopt;
  return avps.front().u16();
}

const Avp* ControlMessage::find(uint16_t t, uint16_t vendor) const {
  for (const auto& a : avps) {
    if (a.type == t && a.vendor == vendor) return &a;
  }
  return nullptr;
}

Result<ControlMessage> parse_control(std::string_view packet, std::string_view secret) {
  auto h = parse_header(packet);
  if (!h) return h.error();
  if (!h->control) return make_error("a data message where a control message was expected");
  ControlMessage m;
  m.tunnel = h->tunnel;
  m.session = h->session;
  m.ns = h->ns;
  m.nr = h->nr;
  auto avps = decode_avps(packet.substr(h->payload_at, h->length - h->payload_at), secret);
  if (!avps) return avps.error();
  m.avps = std::move(*avps);
  if (!m.avps.empty()) {
    const Avp& first = m.avps.front();
    if (first.vendor != 0 || first.type != avp::kMessageType || first.hidden) {
      return make_error("the first AVP is not a plain Message Type (RFC 2661 §4.4.1)");
    }
    if (!first.mandatory || !first.u16()) return make_error("Message Type AVP not mandatory or not 2 bytes");
  }
  return m;
}

Result<std::string> encode_control(const ControlMessage& m, std::string_view secret) {
  auto avps = encode_avps(m.avps, secret);
  if (!avps) return avps.error();
  const size_t len = kControlHeader + avps->size();
  if (len > 0xffff) return make_error("control message of " + std::to_string(len) + " bytes");
  std::string out = be16(kT | kL | kS | 2) + be16(static_cast<uint16_t>(len)) + be16(m.tunnel) + be16(m.session) +
                    be16(m.ns) + be16(m.nr);
  return out + *avps;
}

std::string encode_data(uint16_t tunnel, uint16_t session, std::string_view ppp) {
  return be16(kL | 2) + be16(static_cast<uint16_t>(8 + ppp.size())) + be16(tunnel) + be16(session) +
         std::string(ppp);
}

}  // namespace mapgw::l2tp
