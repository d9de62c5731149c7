#include "vpn/l2tp/tun_gro.h"

#include <cstring>
#include <optional>
#include <string_view>

#include "vpn/bytes.h"
#include "vpn/inet_checksum.h"

namespace mapgw::l2tp {
namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kAck = 0x10, kPsh = 0x08;
constexpr size_t kMaxIpLength = 65535;  // IPv4 Total Length, IPv6 Payload Length

}  // namespace

// A TCP segment's fields as coalescing needs them; only for packets that
// could be coalesced at all: IPv4 without options or fragmentation, or
// IPv6 with TCP as its first next header, lengths as the headers say, an
// ACK with data and no flag but PSH beside it.
struct TunGro::Segment {
  std::string_view ip;
  bool v6 = false;
  size_t ip_len = 0, tcp_len = 0, payload = 0;
  uint32_t seq = 0;
  uint16_t id = 0;
  bool push = false;

  static std::optional<Segment> read(std::string_view ip) {
    Segment s;
    s.ip = ip;
    if (ip.empty()) return std::nullopt;
    const unsigned version = static_cast<uint8_t>(ip[0]) >> 4;
    if (version == 4) {
      if (ip.size() < 20 || (ip[0] & 0x0f) != 5 || static_cast<uint8_t>(ip[9]) != kTcp)
        return std::nullopt;
      if ((bytes::rd16(ip, 6) & 0x3fff) != 0 || bytes::rd16(ip, 2) != ip.size())
        return std::nullopt;  // fragment
      // A damaged header the kernel would drop must not be mended by ours.
      if (!inet::checks_out(ip.substr(0, 20))) return std::nullopt;
      s.ip_len = 20;
      s.id = bytes::rd16(ip, 4);
    } else if (version == 6) {
      if (ip.size() < 40 || static_cast<uint8_t>(ip[6]) != kTcp ||
          bytes::rd16(ip, 4) + 40u != ip.size()) {
        return std::nullopt;
      }
      s.v6 = true;
      s.ip_len = 40;
    } else {
      return std::nullopt;
    }
    if (ip.size() < s.ip_len + 20) return std::nullopt;
    const std::string_view tcp = ip.substr(s.ip_len);
    s.tcp_len = (static_cast<uint8_t>(tcp[12]) >> 4) * 4u;
    if (s.tcp_len < 20 || tcp.size() <= s.tcp_len)
      return std::nullopt;  // no data: nothing to coalesce
    const uint8_t flags = static_cast<uint8_t>(tcp[13]);
    if ((flags & ~kPsh) != kAck || (static_cast<uint8_t>(tcp[12]) & 0x0f) != 0) return std::nullopt;
    s.push = flags & kPsh;
    s.payload = tcp.size() - s.tcp_len;
    s.seq = bytes::rd32(tcp, 4);
    return s;
  }

  std::string_view addresses() const { return v6 ? ip.substr(8, 32) : ip.substr(12, 8); }
  std::string_view tcp() const { return ip.substr(ip_len); }

  bool checksum_good() const {
    return inet::checks_out(tcp(),
                            inet::pseudo_header(ip, kTcp, static_cast<uint32_t>(tcp().size())));
  }
};

void TunGro::add(char* ip, size_t len) {
  if (held_ == kMaxPackets) flush();
  auto s = Segment::read(std::string_view(ip, len));
  if (s && !s->checksum_good()) s.reset();  // as it came: the receiver drops it, as without us
  if (!s) {
    // A FIN, a bare ACK, anything else: whatever is held may not pass it.
    for (size_t i = 0; i < held_; ++i) items_[i].open = false;
    start(ip, len, nullptr);
    return;
  }
  Item* item = open_item_of(*s);
  if (item && joins(*item, *s)) {
    item->parts[item->segments++] = {ip + s->ip_len + s->tcp_len, s->payload};
    item->payload += s->payload;
    item->next_seq += static_cast<uint32_t>(s->payload);
    ++item->next_id;
    item->push = s->push;
    // A short segment or PSH ends what the sender wrote: nothing joins after.
    item->open = !s->push && s->payload == item->gso_size && item->segments < kMaxSegments;
    return;
  }
  if (item) item->open = false;  // the flow goes on in a new item, after this one
  start(ip, len, &*s);
}

TunGro::Item* TunGro::open_item_of(const Segment& s) {
  for (size_t i = 0; i < held_; ++i) {
    Item& item = items_[i];
    if (!item.open || item.v6 != s.v6) continue;
    const Segment first{std::string_view(item.first, item.first_len), item.v6, item.ip_len,
                        item.tcp_len};
    if (first.addresses() == s.addresses() && first.tcp().substr(0, 4) == s.tcp().substr(0, 4))
      return &item;
  }
  return nullptr;
}

bool TunGro::joins(const Item& item, const Segment& s) {
  const std::string_view first(item.first, item.first_len);
  if (s.seq != item.next_seq || s.tcp_len != item.tcp_len || s.payload > item.gso_size)
    return false;
  if (item.ip_len + item.tcp_len + item.payload + s.payload > kMaxIpLength) return false;
  if (s.v6) {
    // Version, traffic class, flow label; hop limit.
    if (first.substr(0, 4) != s.ip.substr(0, 4) || first[7] != s.ip[7]) return false;
  } else {
    // TOS; DF; TTL; the ID one more than the last one's.
    if (first[1] != s.ip[1] || first[6] != s.ip[6] || first[8] != s.ip[8] || s.id != item.next_id)
      return false;
  }
  // Acknowledgment, window, urgent pointer (meaningless without URG, but
  // what the segment carried) and options as the first had them (RFC 9293
  // §3.1: data offset already equal); flags were checked when read.
  const std::string_view a = first.substr(item.ip_len), b = s.tcp();
  return a.substr(8, 4) == b.substr(8, 4) && a.substr(14, 2) == b.substr(14, 2) &&
         a.substr(18, 2) == b.substr(18, 2) &&
         a.substr(20, item.tcp_len - 20) == b.substr(20, item.tcp_len - 20);
}

void TunGro::start(char* ip, size_t len, const Segment* s) {
  Item& item = items_[held_++];
  item.first = ip;
  item.first_len = len;
  item.segments = 1;
  item.parts[0] = {ip, len};
  item.open = s && !s->push;
  item.v6 = s && s->v6;
  if (!s) return;
  item.ip_len = s->ip_len;
  item.tcp_len = s->tcp_len;
  item.gso_size = item.payload = s->payload;
  item.next_seq = s->seq + static_cast<uint32_t>(s->payload);
  item.next_id = static_cast<uint16_t>(s->id + 1);
  item.push = s->push;
}

void TunGro::flush() {
  for (size_t i = 0; i < held_; ++i) write(items_[i]);
  held_ = 0;
}

void TunGro::write(Item& item) {
  VnetHeader vnet;
  std::array<iovec, kMaxSegments + 1> parts;
  parts[0] = {&vnet, sizeof vnet};
  if (item.segments > 1) {
    // The first segment's headers now describe the whole (RFC 9293's fields
    // the kernel copies into every segment it cuts); the checksum field
    // holds the pseudo-header's sum for the kernel to finish.
    char* ip = item.first;
    char* tcp = ip + item.ip_len;
    const size_t tcp_length = item.tcp_len + item.payload;
    if (item.v6) {
      bytes::put16(ip + 4, static_cast<uint16_t>(tcp_length));
    } else {
      bytes::put16(ip + 2, static_cast<uint16_t>(item.ip_len + tcp_length));
      bytes::put16(ip + 10, 0);
      bytes::put16(ip + 10, inet::checksum(std::string_view(ip, item.ip_len)));
    }
    if (item.push) tcp[13] = static_cast<char>(tcp[13] | kPsh);
    bytes::put16(tcp + 16, inet::fold(inet::pseudo_header(std::string_view(ip, item.ip_len), kTcp,
                                                          static_cast<uint32_t>(tcp_length))));
    vnet.flags = VnetHeader::kNeedsChecksum;
    vnet.gso_type = item.v6 ? VnetHeader::kGsoTcpV6 : VnetHeader::kGsoTcpV4;
    vnet.hdr_len = static_cast<uint16_t>(item.ip_len + item.tcp_len);
    vnet.gso_size = static_cast<uint16_t>(item.gso_size);
    vnet.csum_start = static_cast<uint16_t>(item.ip_len);
    vnet.csum_offset = 16;
    counters_.coalesced += item.segments;
  }
  std::memcpy(&parts[1], item.parts.data(), item.segments * sizeof(iovec));
  ++counters_.writes;
  counters_.packets += item.segments;
  if (!write_(parts.data(), static_cast<int>(item.segments + 1)))
    counters_.failed_packets += item.segments;
}

}  // namespace mapgw::l2tp
