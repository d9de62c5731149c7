#include "vpn/l2tp/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace mapgw::l2tp {
namespace {

void watch(int ep, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

#ifndef SO_RCVMARK
#define SO_RCVMARK 75  // Linux 5.19; older C libraries lack the name
#endif

// A UDP socket bound to @address:@port that reports the arriving
// interface (the IPsec gate wants it) and, with @marks, each datagram's mark.
Result<int> udp_socket(const std::string& address, uint16_t port, bool marks, bool* ipv6) {
  const std::string text = address + (address.find(':') != std::string::npos ? " port " : ":") + std::to_string(port);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss); inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof *a6;
    *ipv6 = true;
  } else if (auto* a4 = reinterpret_cast<sockaddr_in*>(&ss); inet_pton(AF_INET, address.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof *a4;
    *ipv6 = false;
  } else {
    return make_error("l2tp: '" + address + "' is not an address");
  }
  const int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("l2tp: socket", errno);
  const int on = 1;
  if (*ipv6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  } else {
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  }
  if (marks && setsockopt(fd, SOL_SOCKET, SO_RCVMARK, &on, sizeof on) < 0) {
    const int e = errno;
    close(fd);
    return make_error("l2tp: SO_RCVMARK on " + text, e);
  }
  // Bursts of many clients' data: a bigger queue than the default.
  const int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    const int e = errno;
    close(fd);
    return make_error("l2tp: binding " + text, e);
  }
  return fd;
}

}  // namespace

bool kernel_reports_marks() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int on = 1;
  const bool ok = setsockopt(fd, SOL_SOCKET, SO_RCVMARK, &on, sizeof on) == 0;
  close(fd);
  return ok;
}


Result<std::unique_ptr<Server>> Server::start(const ServerConfig& c, Hooks h, DataPath::Admit admit) {
  std::unique_ptr<Server> s(new Server(c, std::move(h)));
  auto users = ppp::FileUserDb::load(c.users_file);
  if (!users) return make_error("l2tp: " + users.error().describe());
  s->users_ = std::make_unique<ppp::FileUserDb>(std::move(*users));
  auto pool = AddressPool::parse(c.pool4);
  if (!pool) return make_error("l2tp: pool4: " + pool.error().describe());
  auto tun = TunDevice::open(c.tun_name, c.tun_mtu);
  if (!tun) return make_error("l2tp: " + tun.error().describe());
  s->tun_ = std::make_unique<TunDevice>(std::move(*tun));
  if (Status st = s->open_sockets(); !st) return st.error();
  s->ep_ = epoll_create1(EPOLL_CLOEXEC);
  s->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (s->ep_ < 0 || s->timer_fd_ < 0) return make_error("l2tp: epoll/timerfd", errno);
  s->data_ = std::make_unique<DataPath>(s->sockets_, s->tun_->fd(), std::move(admit));
  Server* self = s.get();
  Lns::Hooks lh;
  lh.send = [self](const std::string& peer, const std::string& d) { self->send(peer, d); };
  lh.client_up = [self](const ClientRoute& r) {
    auto it = self->peer_socket_.find(r.peer);
    auto ep = Endpoint::parse(r.peer);
    if (it != self->peer_socket_.end() && ep) self->data_->add(r, *ep, it->second);
    if (self->h_.client_up) self->h_.client_up(r);
  };
  lh.client_down = [self](const ClientRoute& r, const std::string& why) {
    const auto carried = self->data_->remove(r.tunnel, r.session);
    self->lns_->add_bytes(r.tunnel, r.session, carried.bytes_in, carried.bytes_out);
    if (self->h_.client_down) self->h_.client_down(r, why);
  };
  lh.client_ipv6_up = [self](const ClientRoute& r) {
    auto it = self->peer_socket_.find(r.peer);
    auto ep = Endpoint::parse(r.peer);
    if (it != self->peer_socket_.end() && ep) self->data_->add_ipv6(r, *ep, it->second);
    if (self->h_.client_ipv6_up) self->h_.client_ipv6_up(r);
  };
  lh.client_ipv6_down = [self](const ClientRoute& r, const std::string& why) {
    self->data_->remove_ipv6(r.tunnel, r.session);
    if (self->h_.client_ipv6_down) self->h_.client_ipv6_down(r, why);
  };
  // IP the LNS itself passed (a session's first packets, before its route).
  lh.to_tun = [self](std::string_view ip) { (void)self->tun_->write(ip); };
  lh.tunnel_closed = [self](const std::string& peer, const std::string& why) {
    bool other = false;
    for (const auto& t : self->lns_->tunnel_list()) other = other || (t.peer == peer && t.state != "closed");
    if (!other) self->peer_socket_.erase(peer);
    if (self->h_.tunnel_closed) self->h_.tunnel_closed(peer, why);
  };
  s->lns_ = std::make_unique<Lns>(c.lns, *s->users_, std::move(*pool), std::move(lh));
  watch(s->ep_, s->timer_fd_);
  watch(s->ep_, s->data_->queue_fd());
  if (Status st = s->data_->start(); !st) return st.error();
  return s;
}

Server::~Server() {
  if (data_) data_->stop();
  lns_.reset();
  for (const auto& sock : sockets_) close(sock.fd);
  if (timer_fd_ >= 0) close(timer_fd_);
  if (ep_ >= 0) close(ep_);
}

Status Server::open_sockets() {
  for (const auto& a : c_.listen) {
    bool v6 = false;
    auto fd = udp_socket(a, c_.port, c_.sa_marks, &v6);
    if (!fd) {
      for (const auto& s : sockets_) close(s.fd);
      sockets_.clear();
      return fd.error();
    }
    sockets_.push_back({*fd, v6});
    bound_.push_back(v6 ? "[" + a + "]:" + std::to_string(c_.port) : a + ":" + std::to_string(c_.port));
  }
  return Status::Ok();
}

std::vector<std::string> Server::bound() const { return bound_; }

void Server::send(const std::string& peer, const std::string& datagram) {
  auto it = peer_socket_.find(peer);
  auto ep = Endpoint::parse(peer);
  if (it == peer_socket_.end() || !ep) {
    ++counters_.unknown_peer_socket;
    return;
  }
  data_->send(it->second, *ep, datagram);
}

void Server::on_event() {
  uint64_t expirations;
  (void)!read(timer_fd_, &expirations, sizeof expirations);
  const auto now = Clock::now();
  for (auto& in : data_->take()) {
    peer_socket_[in.peer] = in.socket;
    lns_->receive(in.peer, in.datagram, now);
  }
  lns_->on_timer(Clock::now());
  arm_timer();
}

void Server::arm_timer() {
  itimerspec its{};
  if (auto d = lns_->next_deadline()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*d - Clock::now()).count();
    if (ns < 1000000) ns = 1000000;
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = ns % 1000000000;
  }
  timerfd_settime(timer_fd_, 0, &its, nullptr);
}

size_t Server::close_ipsec_peer(const std::string& key, const std::string& why) {
  size_t n = 0;
  for (const auto& t : lns_->tunnel_list()) {
    if (peer_ipsec_key(t.peer) == key && lns_->close_tunnel(t.id, why, Clock::now(), /*at_once=*/true)) ++n;
  }
  arm_timer();
  return n;
}

bool Server::disconnect(uint16_t tunnel, uint16_t session) {
  const bool found = lns_->disconnect(tunnel, session, Clock::now());
  arm_timer();
  return found;
}

std::vector<Lns::SessionInfo> Server::sessions() const {
  auto out = lns_->sessions();
  for (auto& s : out) {
    const auto b = data_->bytes(s.tunnel, s.session);
    s.bytes_in += b.bytes_in;
    s.bytes_out += b.bytes_out;
  }
  return out;
}

void Server::stop(std::chrono::milliseconds grace) {
  for (const auto& t : lns_->tunnel_list()) lns_->close_tunnel(t.id, "server shutting down", Clock::now());
  const auto until = Clock::now() + grace;
  while (Clock::now() < until) {
    bool busy = false;
    for (const auto& t : lns_->tunnel_list()) busy = busy || t.state == "stopping";
    if (!busy) break;
    epoll_event got[4];
    arm_timer();
    if (epoll_wait(ep_, got, 4, 50) > 0) on_event();
  }
}

}  // namespace mapgw::l2tp
