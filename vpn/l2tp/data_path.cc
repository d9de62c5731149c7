#include "vpn/l2tp/data_path.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "vpn/bytes.h"
#include "vpn/inet_checksum.h"
#include "vpn/l2tp/message.h"
#include "vpn/l2tp/tun_device.h"
#include "vpn/ppp/packet.h"

namespace mapgw::l2tp {
namespace {

bool same(const Endpoint& a, const Endpoint& b) {
  if (a.addr.ss_family != b.addr.ss_family || a.mark != b.mark) return false;
  if (a.ipv6()) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.addr);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.addr);
    return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
  }
  const auto* x = reinterpret_cast<const sockaddr_in*>(&a.addr);
  const auto* y = reinterpret_cast<const sockaddr_in*>(&b.addr);
  return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

// The IPsec SA's packet mark on a datagram for a client behind a NAT
// (endpoint.h): SO_MARK as ancillary data, which sets it per datagram.
void put_mark(msghdr& h, char* buf, size_t room, uint32_t mark) {
  if (!mark || room < CMSG_SPACE(sizeof mark)) return;
  h.msg_control = buf;
  h.msg_controllen = CMSG_SPACE(sizeof mark);
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SO_MARK;
  c->cmsg_len = CMSG_LEN(sizeof mark);
  std::memcpy(CMSG_DATA(c), &mark, sizeof mark);
}

// A checksum the kernel left to the device (CHECKSUM_PARTIAL: the TUN
// device offers checksum offload, which TSO needs) finished here.
bool complete_checksum(const VnetHeader& h, char* ip, size_t length) {
  if (!(h.flags & VnetHeader::kNeedsChecksum)) return true;
  const size_t start = h.csum_start, field = start + h.csum_offset;
  if (field + 2 > length) return false;
  const uint16_t c = inet::checksum(std::string_view(ip + start, length - start));
  ip[field] = static_cast<char>(c >> 8);
  ip[field + 1] = static_cast<char>(c & 0xff);
  return true;
}

void watch(int ep, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

}  // namespace

DataPath::DataPath(std::vector<Socket> sockets, int tun_fd, Admit admit)
    : sockets_(std::move(sockets)),
      tun_fd_(tun_fd),
      admit_(std::move(admit)),
      gro_([tun_fd](const iovec* parts, int count) { return writev(tun_fd, parts, count) >= 0; }) {
  queue_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

DataPath::~DataPath() {
  stop();
  if (queue_fd_ >= 0) close(queue_fd_);
}

Status DataPath::start() {
  rx_ = std::make_unique<Batch>();
  tx_ = std::make_unique<Outbound>();
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ep_ < 0 || stop_fd_ < 0 || queue_fd_ < 0) return make_error("l2tp data path: epoll/eventfd", errno);
  for (const auto& s : sockets_) watch(ep_, s.fd);
  watch(ep_, tun_fd_);
  watch(ep_, stop_fd_);
  thread_ = std::thread([this] { run(); });
  return Status::Ok();
}

void DataPath::stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (ep_ >= 0) close(ep_);
  if (stop_fd_ >= 0) close(stop_fd_);
  ep_ = stop_fd_ = -1;
}

void DataPath::run() {
  for (;;) {
    epoll_event got[8];
    const int n = epoll_wait(ep_, got, 8, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = got[i].data.fd;
      if (fd == stop_fd_) return;
      if (fd == tun_fd_) {
        read_tun();
        continue;
      }
      for (size_t s = 0; s < sockets_.size(); ++s) {
        if (sockets_[s].fd == fd) read_socket(s);
      }
    }
  }
}

// Datagrams come in batches (recvmmsg): one system call for up to
// kBatch of them, which is most of the cost of a user-space data path.
void DataPath::read_socket(size_t i) {
  // A bounded number of batches per wake-up: the TUN side gets its turn too.
  for (int round = 0; round < 4; ++round) {
    Batch& b = *rx_;
    for (size_t k = 0; k < kBatch; ++k) {
      b.iov[k] = {b.buf[k].data(), b.buf[k].size()};
      b.msg[k] = {};
      b.msg[k].msg_hdr.msg_name = &b.from[k];
      b.msg[k].msg_hdr.msg_namelen = sizeof b.from[k];
      b.msg[k].msg_hdr.msg_iov = &b.iov[k];
      b.msg[k].msg_hdr.msg_iovlen = 1;
      b.msg[k].msg_hdr.msg_control = b.ctl[k].data();
      b.msg[k].msg_hdr.msg_controllen = b.ctl[k].size();
    }
    const int got = recvmmsg(sockets_[i].fd, b.msg.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    for (int k = 0; k < got; ++k) inbound(i, b.msg[k], b.buf[k].data());
    gro_.flush();  // before the next batch reuses the buffers
    if (static_cast<size_t>(got) < kBatch) return;
  }
}

void DataPath::inbound(size_t socket, mmsghdr& m, char* data) {
  int ifindex = 0;
  uint32_t mark = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c; c = CMSG_NXTHDR(&m.msg_hdr, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_MARK) {  // SO_RCVMARK is on: per-SA marks
      std::memcpy(&mark, CMSG_DATA(c), sizeof mark);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      ifindex = pi.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      ifindex = static_cast<int>(pi.ipi6_ifindex);
    }
  }
  Endpoint peer = Endpoint::from(static_cast<sockaddr*>(m.msg_hdr.msg_name), m.msg_hdr.msg_namelen);
  peer.mark = mark;
  if (admit_ && !admit_(peer, ifindex)) {
    ++counters_.not_ipsec;
    return;
  }
  if (fast_inbound(peer, data, m.msg_len)) return;
  enqueue({peer.str(), std::string(data, m.msg_len), socket});
}

bool DataPath::fast_inbound(const Endpoint& from, char* data, size_t length) {
  const std::string_view datagram(data, length);
  auto h = parse_header(datagram);
  if (!h || h->control) return false;
  auto route = by_session(key(h->tunnel, h->session));
  if (!route) return false;  // a session still negotiating, or none: the control thread decides
  if (!same(route->peer, from)) {
    ++counters_.wrong_peer;
    return true;
  }
  const size_t end = h->has_length ? h->length : datagram.size();
  auto f = ppp::parse_frame(datagram.substr(h->payload_at, end - h->payload_at));
  if (!f) return false;
  const std::string_view ip = f->info;
  if (f->protocol == ppp::proto::kIpv6) {
    // Its own /64 only; link-local traffic and Router Solicitations are the
    // control thread's, and so is judging any other source.
    const uint64_t prefix = route->prefix6.load(std::memory_order_relaxed);
    if (!prefix || ip.size() < 40 || (uint64_t{bytes::rd32(ip, 8)} << 32 | bytes::rd32(ip, 12)) != prefix) return false;
  } else if (f->protocol != ppp::proto::kIpv4) {
    return false;  // LCP echo, the NCPs: slow path
  } else if (ip.size() < 20 || bytes::rd32(ip, 12) != route->r.address) {
    ++counters_.spoofed;  // only the address IPCP gave it (as the kernel's rp_filter would)
    return true;
  }
  gro_.add(data + (ip.data() - datagram.data()), ip.size());  // the packet where it lies in our buffer
  ++route->packets_in;
  route->bytes_in += ip.size();
  ++counters_.to_tun_packets;
  counters_.to_tun_bytes += ip.size();
  return true;
}

// Packets for clients go out in batches too (sendmmsg), per socket. With
// TSO on the TUN device a read may be a TCP burst of up to 64 KiB, cut
// here into its segments (tun_gso.h) without copying its data.
void DataPath::read_tun() {
  Outbound& b = *tx_;
  for (int count = 0; count < 64; ++count) {
    if (out_reads_ == kBatch) flush_out();  // every read buffer may be queued: send before reading again
    const size_t cur = out_reads_;
    char* buf = b.read[cur].data();
    const ssize_t got = read(tun_fd_, buf, b.read[cur].size());
    if (got < static_cast<ssize_t>(TunDevice::kHeader)) break;
    ++out_reads_;
    ++counters_.tun_reads;
    VnetHeader vnet;
    std::memcpy(&vnet, buf, sizeof vnet);
    char* packet = buf + TunDevice::kHeader;
    const std::string_view ip(packet, static_cast<size_t>(got) - TunDevice::kHeader);
    const unsigned version = ip.empty() ? 0 : static_cast<uint8_t>(ip[0]) >> 4;
    std::shared_ptr<Route> route;
    if (version == 4 && ip.size() >= 20) {
      route = by_address(bytes::rd32(ip, 16));
    } else if (version == 6 && ip.size() >= 40) {
      route = by_prefix6(uint64_t{bytes::rd32(ip, 24)} << 32 | bytes::rd32(ip, 28));
    }
    if (!route) {
      ++counters_.no_session;
      continue;
    }
    if (vnet.gso_type == VnetHeader::kGsoNone) {
      if (!complete_checksum(vnet, packet, ip.size())) {
        ++counters_.tun_offload;
        continue;
      }
      make_room(*route, cur);
      queue_out(route, version, {}, ip);
      continue;
    }
    auto segments = TcpSegments::of(vnet, ip);
    if (!segments) {
      ++counters_.tun_offload;
      continue;
    }
    counters_.segmented += segments->count();
    for (size_t i = 0; i < segments->count(); ++i) {
      make_room(*route, cur);
      // The segment's headers go behind room for the L2TP and PPP ones.
      char* head = b.head[out_count_].data() + 16;
      const std::string_view data = segments->segment(i, head);
      queue_out(route, version, std::string_view(head, segments->header_length()), data);
    }
  }
  flush_out();
}

bool DataPath::queue_out(const std::shared_ptr<Route>& route, unsigned version, std::string_view headers,
                         std::string_view data) {
  const size_t size = headers.size() + data.size();
  if (size > route->r.peer_mru) {
    ++counters_.exceeds_mru;  // the route's MTU makes the kernel answer with ICMP first
    return false;
  }
  Outbound& b = *tx_;
  const size_t k = out_count_;
  // The PPP frame (RFC 1661 §6.5/6.6 compression as the client agreed),
  // then the L2TP header (T=0, L set; RFC 2661 §3.1), in front of the packet.
  char* head = b.head[k].data();
  size_t at = 16;
  head[--at] = static_cast<char>(version == 6 ? ppp::proto::kIpv6 : ppp::proto::kIpv4);
  if (!route->r.pfc) head[--at] = 0;
  if (!route->r.acfc) {
    head[--at] = 0x03;
    head[--at] = static_cast<char>(0xff);
  }
  const size_t length = 16 - at + size + 8;
  at -= 8;
  const uint16_t l2tp[4] = {htons(0x4002), htons(static_cast<uint16_t>(length)), htons(route->r.peer_tunnel),
                            htons(route->r.peer_session)};
  std::memcpy(head + at, l2tp, sizeof l2tp);
  b.iov[k][0] = {head + at, 16 - at + headers.size()};  // a segment's headers follow at 16
  b.iov[k][1] = {const_cast<char*>(data.data()), data.size()};
  std::memcpy(&b.to[k], &route->peer.addr, sizeof b.to[k]);
  b.msg[k] = {};
  b.msg[k].msg_hdr.msg_name = &b.to[k];
  b.msg[k].msg_hdr.msg_namelen = route->peer.len;
  b.msg[k].msg_hdr.msg_iov = b.iov[k].data();
  b.msg[k].msg_hdr.msg_iovlen = 2;
  put_mark(b.msg[k].msg_hdr, b.ctl[k].data(), b.ctl[k].size(), route->peer.mark);
  out_socket_ = route->socket;
  ++out_count_;
  ++route->packets_out;
  route->bytes_out += size;
  ++counters_.from_tun_packets;
  counters_.from_tun_bytes += size;
  return true;
}

void DataPath::make_room(const Route& route, size_t reading) {
  if (out_count_ < kBatch && (!out_count_ || route.socket == out_socket_)) return;
  flush_out();
  // The packet in read buffer @reading is not all queued yet: the next
  // read goes into one after it.
  out_reads_ = reading + 1;
}

void DataPath::flush_out() {
  if (out_count_) {
    const int sent = sendmmsg(sockets_[out_socket_].fd, tx_->msg.data(), static_cast<unsigned>(out_count_), MSG_DONTWAIT);
    if (sent < static_cast<int>(out_count_)) counters_.send_errors += out_count_ - static_cast<size_t>(std::max(sent, 0));
  }
  out_count_ = 0;
  out_reads_ = 0;
}

bool DataPath::send(size_t socket, const Endpoint& to, std::string_view datagram) {
  if (socket >= sockets_.size()) return false;
  msghdr h{};
  iovec iov{const_cast<char*>(datagram.data()), datagram.size()};
  sockaddr_storage addr = to.addr;
  h.msg_name = &addr;
  h.msg_namelen = to.len;
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(uint32_t))];
  put_mark(h, ctl, sizeof ctl, to.mark);
  if (sendmsg(sockets_[socket].fd, &h, MSG_DONTWAIT) < 0) {
    ++counters_.send_errors;
    return false;
  }
  return true;
}

void DataPath::enqueue(Inbound in) {
  {
    std::lock_guard<std::mutex> g(queue_mu_);
    if (queue_.size() >= kMaxQueued) {
      ++counters_.control_queue_full;
      return;
    }
    queue_.push_back(std::move(in));
  }
  ++counters_.to_control;
  const uint64_t one = 1;
  (void)!write(queue_fd_, &one, sizeof one);
}

std::vector<DataPath::Inbound> DataPath::take() {
  uint64_t n;
  (void)!read(queue_fd_, &n, sizeof n);
  std::lock_guard<std::mutex> g(queue_mu_);
  std::vector<Inbound> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

std::shared_ptr<DataPath::Route> DataPath::entry(const ClientRoute& r, const Endpoint& peer, size_t socket) {
  auto& route = by_session_[key(r.tunnel, r.session)];
  if (!route) {
    route = std::make_shared<Route>();
    route->r = r;
    route->peer = peer;
    route->socket = socket;
  }
  return route;
}

void DataPath::add(const ClientRoute& r, const Endpoint& peer, size_t socket) {
  std::lock_guard<std::mutex> g(routes_mu_);
  by_address_[r.address] = entry(r, peer, socket);
}

void DataPath::add_ipv6(const ClientRoute& r, const Endpoint& peer, size_t socket) {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto route = entry(r, peer, socket);
  route->prefix6 = r.prefix6;
  by_prefix6_[r.prefix6] = route;
}

void DataPath::remove_ipv6(uint16_t tunnel, uint16_t session) {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto it = by_session_.find(key(tunnel, session));
  if (it == by_session_.end()) return;
  if (auto p = by_prefix6_.find(it->second->prefix6); p != by_prefix6_.end() && p->second == it->second) {
    by_prefix6_.erase(p);
  }
  it->second->prefix6 = 0;
}

DataPath::SessionBytes DataPath::remove(uint16_t tunnel, uint16_t session) {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto it = by_session_.find(key(tunnel, session));
  if (it == by_session_.end()) return {};
  auto route = it->second;
  by_session_.erase(it);
  if (auto p = by_prefix6_.find(route->prefix6); p != by_prefix6_.end() && p->second == route) by_prefix6_.erase(p);
  if (auto a = by_address_.find(route->r.address); a != by_address_.end() && a->second == route) by_address_.erase(a);
  return {route->bytes_in, route->bytes_out, route->packets_in, route->packets_out};
}

DataPath::SessionBytes DataPath::bytes(uint16_t tunnel, uint16_t session) const {
  auto route = by_session(key(tunnel, session));
  if (!route) return {};
  return {route->bytes_in, route->bytes_out, route->packets_in, route->packets_out};
}

size_t DataPath::routes() const {
  std::lock_guard<std::mutex> g(routes_mu_);
  return by_session_.size();
}

std::shared_ptr<DataPath::Route> DataPath::by_session(uint32_t k) const {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto it = by_session_.find(k);
  return it == by_session_.end() ? nullptr : it->second;
}

std::shared_ptr<DataPath::Route> DataPath::by_prefix6(uint64_t p) const {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto it = by_prefix6_.find(p);
  return it == by_prefix6_.end() ? nullptr : it->second;
}

std::shared_ptr<DataPath::Route> DataPath::by_address(uint32_t a) const {
  std::lock_guard<std::mutex> g(routes_mu_);
  auto it = by_address_.find(a);
  return it == by_address_.end() ? nullptr : it->second;
}

}  // namespace mapgw::l2tp
