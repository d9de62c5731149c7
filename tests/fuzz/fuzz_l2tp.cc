// libFuzzer: what a hostile LAC controls on UDP/1701. The first byte picks
// the entry: 0 = one datagram through the header and control-message
// codec (hidden AVPs revealed with a fixed secret); whatever parses must
// encode and parse back to the same AVPs. 1 = datagrams (split at "\0\0",
// up to 32) as control messages into a reliable channel whose own
// messages go nowhere, with time moving on after each. 2 = the same into
// an LNS tunnel: the first datagram as its SCCRQ, the rest as what follows.
// 3 = the same into a whole LNS (tunnels, sessions, PPP), from two peers.
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/pieces.h"
#include "vpn/l2tp/lns.h"

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
    const std::string_view one = next_piece(in);
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
    const std::string_view one = next_piece(in);
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

void lns(std::string_view in) {
  static const mapgw::ppp::FileUserDb users = *mapgw::ppp::FileUserDb::parse("alice plain:wonderland\n", "fuzz");
  LnsConfig c;
  c.tunnel.secret = std::string(kSecret);
  c.max_tunnels = 4;
  c.max_sessions = 4;
  Lns::Hooks h;
  h.send = [](const std::string&, const std::string&) {};
  Lns server(c, users, *AddressPool::parse("10.0.0.1-10.0.0.2"), h);
  ReliableChannel::Clock::time_point now{};
  for (int n = 0; n < 32 && !in.empty(); ++n) {
    const std::string_view one = next_piece(in);
    const std::string peer = !one.empty() && (one[0] & 1) ? "a" : "b";
    server.receive(peer, one, now);
    now += std::chrono::milliseconds(700);
    server.on_timer(now);
    if (server.tunnels() > c.max_tunnels || server.sessions().size() > c.max_sessions) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: codec(in); break;
    case 1: channel(in); break;
    case 2: tunnel(in); break;
    default: lns(in); break;
  }
  return 0;
}
