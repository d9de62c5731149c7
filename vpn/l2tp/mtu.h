// The PPP MRU that lets one client packet through as a single outer
// datagram on a path of a given MTU, counting every header L2TP/IPsec adds
// (worst case of the proposals we offer):
//   outer IPv4 20 / IPv6 40, NAT-T UDP 8, ESP SPI+sequence 8, IV 16
//   (AES-CBC), the encrypted part padded to 16 with its 2 trailer bytes,
//   ICV 16 (SHA-256-128 or GCM) — around: inner UDP 8, an L2TP data header
//   of up to 12 bytes (length and Ns/Nr present), PPP address, control and
//   protocol 4.
// IPv4 outer on 1500 gives 1398 (FITELnet's 1400 assumes no NAT-T), IPv6
// outer 1382.
#pragma once

#include <cstdint>

namespace mapgw::l2tp {

constexpr uint16_t ppp_mru_for(bool outer_ipv6, uint16_t path_mtu) {
  const int fixed_outside = (outer_ipv6 ? 40 : 20) + 8 /*NAT-T*/ + 8 /*SPI, seq*/ + 16 /*IV*/ + 16 /*ICV*/;
  const int encrypted = (path_mtu - fixed_outside) / 16 * 16;  // whole cipher blocks
  const int inside = 2 /*pad length, next header*/ + 8 /*UDP*/ + 12 /*L2TP*/ + 4 /*PPP*/;
  const int mru = encrypted - inside;
  return static_cast<uint16_t>(mru < 576 ? 576 : mru);  // RFC 1661's floor for what we ask
}

}  // namespace mapgw::l2tp
