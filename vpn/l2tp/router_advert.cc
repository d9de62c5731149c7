#include "vpn/l2tp/router_advert.h"

#include "vpn/bytes.h"
#include "vpn/inet_checksum.h"

namespace mapgw::l2tp {
namespace {

constexpr uint8_t kIcmpv6 = 58;

}  // namespace

std::string router_advertisement(const RouterAdvertSettings& s) {
  std::string src = bytes::from_hex("fe800000000000000000000000000000").value();
  for (int i = 0; i < 8; ++i) src[8 + i] = static_cast<char>(s.our_iid[i]);
  const std::string dst = bytes::from_hex("ff020000000000000000000000000001").value();
  std::string icmp;
  icmp += static_cast<char>(134);  // Router Advertisement
  icmp += '\0';                    // code
  icmp += bytes::be16(0);          // checksum, below
  icmp += static_cast<char>(64);   // current hop limit
  icmp += '\0';                    // M=0 O=0: SLAAC, no DHCPv6
  icmp += bytes::be16(s.router_lifetime);
  icmp += bytes::be32(0) + bytes::be32(0);  // reachable time, retrans timer: unspecified
  if (s.mtu) icmp += std::string("\x05\x01\0\0", 4) + bytes::be32(s.mtu);
  // Prefix Information (RFC 4861 §4.6.2): /64, on-link and autonomous.
  icmp += std::string("\x03\x04\x40\xc0", 4) + bytes::be32(86400) + bytes::be32(14400) + bytes::be32(0);
  icmp += bytes::be32(static_cast<uint32_t>(s.prefix >> 32)) + bytes::be32(static_cast<uint32_t>(s.prefix));
  icmp += std::string(8, '\0');
  if (!s.dns.empty()) {
    icmp += static_cast<char>(25);  // RDNSS (RFC 8106)
    icmp += static_cast<char>(1 + 2 * s.dns.size());
    icmp += bytes::be16(0) + bytes::be32(s.router_lifetime);
    for (const auto& a : s.dns) icmp += std::string(reinterpret_cast<const char*>(a.data()), a.size());
  }
  const uint16_t c = inet::checksum(icmp, inet::pseudo_header(src, dst, kIcmpv6, static_cast<uint32_t>(icmp.size())));
  icmp[2] = static_cast<char>(c >> 8);
  icmp[3] = static_cast<char>(c & 0xff);
  std::string ip = bytes::be32(0x60000000) + bytes::be16(static_cast<uint16_t>(icmp.size()));
  ip += static_cast<char>(kIcmpv6);
  ip += static_cast<char>(255);
  return ip + src + dst + icmp;
}

bool is_router_solicitation(std::string_view p) {
  return p.size() >= 48 && (static_cast<uint8_t>(p[0]) >> 4) == 6 && static_cast<uint8_t>(p[6]) == kIcmpv6 &&
         static_cast<uint8_t>(p[7]) == 255 && static_cast<uint8_t>(p[40]) == 133;
}

}  // namespace mapgw::l2tp
