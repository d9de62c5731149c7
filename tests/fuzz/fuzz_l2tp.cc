// libFuzzer: what a hostile LAC controls on UDP/1701. The first byte picks
// the entry: 0 = one datagram through the header and control-message
// codec (hidden AVPs revealed with a fixed secret); whatever parses must
// encode and parse back to the same AVPs. 1 = datagrams (split at "\0\0",
// up to 32) as control messages into a reliable channel whose own
// messages go nowhere, with time moving on after each. 2 = the same into
// an LNS tunnel: the first datagram as its SCCRQ, the rest as what follows.
#include <cstdint>
#include <string>
#include <string_view>

#include "vpn/l2tp/tunnel.h"

namespace {

using namespace mapgw::l2tp;
constexpr std::string_view kSecret = "fuzz-secret";

void codec(std::string_view in) {
  (void)parse_header(in);
  auto m = parse_control(in, kSecret);
  if (!m) return;
  auto wire = encode_control(*m, kSecret);
  if (!wire) return;  // e.g. an AVP over 1023 bytes once re-hidden: refused, not written
  auto back = parse_control(*wire, kSecret);
  if (!back) __builtin_trap();
  if (back->avps.size() != m->avps.size()) __builtin_trap();
  for (size_t i = 0; i < m->avps.size(); ++i) {
    const Avp &a = m->avps[i], &b = back->avps[i];
    if (a.type != b.type || a.value != b.value || a.mandatory != b.mandatory || a.hidden != b.hidden) __builtin_trap();
  }
}

void channel(std::string_view in) {
  ReliableChannel::Clock::time_point now{};
  size_t sent = 0;
  ReliableChannel ch({}, [&](const ControlMessage&) { ++sent; });
  ch.set_peer_window(4);
  for (int i = 0; i < 3; ++i) {
    ControlMessage hello;
    hello.avps = {make_avp(avp::kMessageType, be16(6))};
    ch.send(hello, now);
  }
  for (int n = 0; n < 32 && !in.empty(); ++n) {
    const size_t cut = in.find(std::string_view("\0\0", 2));
    const std::string_view one = in.substr(0, cut);
    in = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 2);
    if (auto m = parse_control(one, kSecret)) {
      for (const auto& d : ch.receive(*m, now)) (void)d.type();
    }
    now += std::chrono::milliseconds(300);
    ch.on_timer(now);
  }
}

void tunnel(std::string_view in) {
  ReliableChannel::Clock::time_point now{};
  LnsSettings settings;
  settings.secret = std::string(kSecret);
  settings.max_sessions = 4;
  Tunnel::Hooks hooks;
  hooks.send = [](const std::string&) {};
  Tunnel t(settings, 0x1234, hooks);
  bool started = false;
  for (int n = 0; n < 32 && !in.empty(); ++n) {
    const size_t cut = in.find(std::string_view("\0\0", 2));
    const std::string_view one = in.substr(0, cut);
    in = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 2);
    auto m = parse_control(one, kSecret);
    if (!m) continue;
    if (!started) {
      t.start(*m, now);
      started = true;
    } else {
      t.receive(*m, now);
    }
    now += std::chrono::milliseconds(700);
    t.on_timer(now);
    if (t.sessions().size() > settings.max_sessions) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: codec(in); break;
    case 1: channel(in); break;
    default: tunnel(in); break;
  }
  return 0;
}
