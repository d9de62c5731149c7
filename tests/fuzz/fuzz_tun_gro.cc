// libFuzzer: what a client sends inside its PPP session reaches TunGro
// (vpn/l2tp/tun_gro.h) before anything else looks at it. The input is
// packets, each behind a 2-byte big-endian length. Whatever is written must
// hold together: every packet written once, a coalesced one's length field
// its real length, no more than an IP packet can hold, its segments as
// many as its header says.
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>

#include "vpn/l2tp/tun_gro.h"

namespace {

using mapgw::l2tp::TunGro;
using mapgw::l2tp::VnetHeader;

uint16_t be16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::deque<std::string> packets;
  size_t segments_written = 0;
  TunGro gro([&](const iovec* parts, int count) {
    VnetHeader h;
    if (parts[0].iov_len != sizeof h) __builtin_trap();
    std::memcpy(&h, parts[0].iov_base, sizeof h);
    std::string p;
    for (int i = 1; i < count; ++i) p.append(static_cast<const char*>(parts[i].iov_base), parts[i].iov_len);
    if (h.gso_type == VnetHeader::kGsoNone) {
      if (count != 2 || h.flags) __builtin_trap();
      ++segments_written;
      return true;
    }
    const bool v6 = h.gso_type == VnetHeader::kGsoTcpV6;
    if (p.size() > 65535 + (v6 ? 40u : 0u) || h.gso_size == 0 || h.hdr_len >= p.size()) __builtin_trap();
    if ((v6 ? be16(p, 4) + 40u : be16(p, 2)) != p.size()) __builtin_trap();
    const size_t cut = (p.size() - h.hdr_len + h.gso_size - 1) / h.gso_size;
    if (cut != static_cast<size_t>(count - 1)) __builtin_trap();
    segments_written += cut;
    return true;
  });
  while (in.size() >= 2) {
    const size_t n = std::min<size_t>(static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]), in.size() - 2);
    packets.emplace_back(in.substr(2, n));
    in.remove_prefix(2 + n);
    gro.add(packets.back().data(), packets.back().size());
  }
  gro.flush();
  if (segments_written != packets.size()) __builtin_trap();
  return 0;
}
