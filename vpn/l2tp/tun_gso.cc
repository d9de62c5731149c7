#include "vpn/l2tp/tun_gso.h"

#include <algorithm>
#include <cstring>

#include "vpn/bytes.h"
#include "vpn/inet_checksum.h"

namespace mapgw::l2tp {
namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;
constexpr uint8_t kGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN: CWR set on the first

}  // namespace

std::optional<TcpSegments> TcpSegments::of(const VnetHeader& vnet, std::string_view ip) {
  const uint8_t type = vnet.gso_type & ~kGsoEcn;
  if ((type != VnetHeader::kGsoTcpV4 && type != VnetHeader::kGsoTcpV6) || vnet.gso_size == 0)
    return std::nullopt;
  TcpSegments s;
  s.ip_ = ip;
  s.v6_ = type == VnetHeader::kGsoTcpV6;
  if (ip.size() < 20 || static_cast<uint8_t>(ip[0]) >> 4 != (s.v6_ ? 6 : 4)) return std::nullopt;
  if (s.v6_) {
    if (ip.size() < 40 || static_cast<uint8_t>(ip[6]) != kTcp) return std::nullopt;
    s.ip_len_ = 40;
  } else {
    if (static_cast<uint8_t>(ip[9]) != kTcp) return std::nullopt;
    s.ip_len_ = (ip[0] & 0x0f) * 4u;
  }
  if (s.ip_len_ < 20 || ip.size() < s.ip_len_ + 20) return std::nullopt;
  const size_t tcp_len = (static_cast<uint8_t>(ip[s.ip_len_ + 12]) >> 4) * 4u;
  s.headers_ = s.ip_len_ + tcp_len;
  if (tcp_len < 20 || s.headers_ > kMaxHeaders || ip.size() <= s.headers_) return std::nullopt;
  s.mss_ = vnet.gso_size;
  s.count_ = (ip.size() - s.headers_ + s.mss_ - 1) / s.mss_;
  return s;
}

std::string_view TcpSegments::segment(size_t i, char* out) const {
  const size_t at = headers_ + i * mss_;
  const std::string_view data = ip_.substr(at, std::min(mss_, ip_.size() - at));
  std::memcpy(out, ip_.data(), headers_);
  if (v6_) {
    bytes::put16(out + 4, static_cast<uint16_t>(headers_ - 40 + data.size()));
  } else {
    bytes::put16(out + 2, static_cast<uint16_t>(headers_ + data.size()));
    bytes::put16(out + 4, static_cast<uint16_t>(bytes::rd16(ip_, 4) + i));
    bytes::put16(out + 10, 0);
    bytes::put16(out + 10, inet::checksum(std::string_view(out, ip_len_)));
  }
  char* tcp = out + ip_len_;
  bytes::put32(tcp + 4, bytes::rd32(ip_, ip_len_ + 4) + static_cast<uint32_t>(i * mss_));
  uint8_t flags = static_cast<uint8_t>(tcp[13]);
  if (i + 1 < count_) flags &= ~(kFin | kPsh);
  if (i > 0) flags &= ~kCwr;
  tcp[13] = static_cast<char>(flags);
  bytes::put16(tcp + 16, 0);
  const std::string_view tcp_header(tcp, headers_ - ip_len_);
  const uint64_t pseudo = inet::pseudo_header(
      std::string_view(out, ip_len_), kTcp, static_cast<uint32_t>(tcp_header.size() + data.size()));
  bytes::put16(tcp + 16, inet::checksum(data, inet::add_words(tcp_header, pseudo)));
  return data;
}

}  // namespace mapgw::l2tp
