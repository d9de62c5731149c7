// libFuzzer: what a client sends inside its PPP session reaches TunGro
// (vpn/l2tp/tun_gro.h) before anything else looks at it, and what the
// kernel hands the TUN device with TSO reaches TcpSegments (tun_gso.h).
// The first byte picks: 0 = packets (each behind a 2-byte big-endian
// length) through TunGro, every coalesced packet cut again by TcpSegments:
// what comes out must be exactly what went in (as a multiset: flows may be
// reordered among themselves); 1 = a virtio-net header and a packet straight
// into TcpSegments, whose segments must stay within the packet and its MSS.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "vpn/l2tp/tun_gro.h"
#include "vpn/l2tp/tun_gso.h"

namespace {

using mapgw::l2tp::TcpSegments;
using mapgw::l2tp::TunGro;
using mapgw::l2tp::VnetHeader;

void round_trip(std::string_view in) {
  std::deque<std::string> packets;  // TunGro may rewrite them in place
  std::vector<std::string> sent, out;
  TunGro gro([&](const iovec* parts, int count) {
    VnetHeader h;
    if (parts[0].iov_len != sizeof h) __builtin_trap();
    std::memcpy(&h, parts[0].iov_base, sizeof h);
    std::string p;
    for (int i = 1; i < count; ++i)
      p.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
    if (h.gso_type == VnetHeader::kGsoNone) {
      if (count != 2 || h.flags) __builtin_trap();
      out.push_back(p);
      return true;
    }
    auto segments = TcpSegments::of(h, p);
    if (!segments || segments->count() != static_cast<size_t>(count - 1)) __builtin_trap();
    std::string head(TcpSegments::kMaxHeaders, '\0');
    for (size_t i = 0; i < segments->count(); ++i) {
      const std::string_view data = segments->segment(i, head.data());
      out.push_back(head.substr(0, segments->header_length()) + std::string(data));
    }
    return true;
  });
  while (in.size() >= 2) {
    const size_t n = std::min<size_t>(
        static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]), in.size() - 2);
    packets.emplace_back(in.substr(2, n));
    sent.emplace_back(in.substr(2, n));
    in.remove_prefix(2 + n);
    gro.add(packets.back().data(), packets.back().size());
  }
  gro.flush();
  std::sort(sent.begin(), sent.end());
  std::sort(out.begin(), out.end());
  if (sent != out) __builtin_trap();
}

void cut(std::string_view in) {
  VnetHeader h;
  if (in.size() < sizeof h) return;
  std::memcpy(&h, in.data(), sizeof h);
  const std::string packet(in.substr(sizeof h));
  auto segments = TcpSegments::of(h, packet);
  if (!segments) return;
  std::string head(TcpSegments::kMaxHeaders, '\0');
  size_t total = 0;
  for (size_t i = 0; i < segments->count(); ++i) {
    const std::string_view data = segments->segment(i, head.data());
    if (data.empty() || data.size() > h.gso_size) __builtin_trap();
    total += data.size();
  }
  if (segments->header_length() + total != packet.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) round_trip(in);
  if (data[0] == 1) cut(in);
  return 0;
}
