#include "packet_socket_gen.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "frames.h"

namespace mapgw::bench {
namespace {

constexpr unsigned kBatch = 64;

}  // namespace

void apply_walk(std::vector<uint8_t>& frame, const field_walk& w, uint32_t step) {
  const uint32_t v = w.base + w.stride * step;
  for (uint32_t off : w.offset) {
    if (off == 0 || off + w.width > frame.size()) continue;
    if (w.width == 4) {
      const uint32_t be = htonl(v);
      std::memcpy(&frame[off], &be, 4);
    } else if (w.width == 2) {
      const uint16_t be = htons(static_cast<uint16_t>(v));
      std::memcpy(&frame[off], &be, 2);
    }
  }
}

Result<GenReport> send_with_packet_socket(const std::string& ifname, const std::vector<uint8_t>& frame,
                                          const field_walk& fast, const field_walk& slow,
                                          uint64_t packets, uint64_t start) {
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (!ifindex) return make_error("no interface " + ifname, errno);
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: send only
  if (fd < 0) return make_error("AF_PACKET socket", errno);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one)) {
    return make_error("PACKET_QDISC_BYPASS", errno);
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_halen = ETH_ALEN;
  std::memcpy(addr.sll_addr, frame.data(), ETH_ALEN);

  std::vector<std::vector<uint8_t>> bufs(kBatch, frame);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  const uint32_t fast_count = fast.count ? fast.count : 1;
  const uint32_t ipv4_at = ipv4_header_offset(frame);
  uint64_t n = start, sent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (sent < packets) {
    const unsigned want = static_cast<unsigned>(std::min<uint64_t>(kBatch, packets - sent));
    for (unsigned i = 0; i < want; ++i) {
      auto& b = bufs[i];
      const uint64_t k = n + i;
      if (fast.count) apply_walk(b, fast, static_cast<uint32_t>(k % fast_count));
      if (slow.count) apply_walk(b, slow, static_cast<uint32_t>((k / fast_count) % slow.count));
      if (fast.count || slow.count) refresh_ipv4_checksum(b, ipv4_at);
      iov[i] = {b.data(), b.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &addr;
      msgs[i].msg_hdr.msg_namelen = sizeof addr;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = sendmmsg(fd, msgs.data(), want, 0);
    if (done < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;  // full: offer again
      return make_error("sendmmsg on " + ifname, errno);
    }
    n += static_cast<uint64_t>(done);
    sent += static_cast<uint64_t>(done);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return GenReport{sent, secs};
}

}  // namespace mapgw::bench
