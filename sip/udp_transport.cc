#include "sip/udp_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace mapgw::sip {
namespace {

Result<int> bind_socket(Endpoint& where) {
  const int fd = socket(where.ipv6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket for SIP", errno);
  int one = 1;
  if (where.ipv6()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, where.sa(), where.len()) != 0) {
    const int e = errno;
    close(fd);
    return make_error("binding SIP to " + where.str(), e);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  where = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return fd;
}

}  // namespace

Result<std::unique_ptr<UdpTransport>> UdpTransport::open(std::optional<Endpoint> v6,
                                                         std::optional<Endpoint> v4) {
  if (!v6 && !v4) return make_error("SIP needs a local IPv6 or IPv4 address");
  std::unique_ptr<UdpTransport> t(new UdpTransport());
  if (v6) {
    auto fd = bind_socket(*v6);
    if (!fd) return fd.error();
    t->fd6_ = *fd;
    t->local6_ = *v6;
  }
  if (v4) {
    auto fd = bind_socket(*v4);
    if (!fd) return fd.error();
    t->fd4_ = *fd;
    t->local4_ = *v4;
  }
  return t;
}

UdpTransport::~UdpTransport() {
  if (fd6_ >= 0) close(fd6_);
  if (fd4_ >= 0) close(fd4_);
}

Status UdpTransport::send(const Endpoint& to, std::string_view data) {
  const int fd = to.ipv6() ? fd6_ : fd4_;
  if (fd < 0) return make_error(std::string("no local ") + (to.ipv6() ? "IPv6" : "IPv4") +
                                " SIP address to reach " + to.str());
  const ssize_t n = sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, to.sa(), to.len());
  if (n < 0) return make_error("sending SIP to " + to.str(), errno);
  return Status::Ok();
}

std::optional<Endpoint> UdpTransport::bound(bool ipv6) const {
  if (ipv6 && fd6_ >= 0) return local6_;
  if (!ipv6 && fd4_ >= 0) return local4_;
  return std::nullopt;
}

Endpoint UdpTransport::local_for(const Endpoint& peer) const {
  auto b = bound(peer.ipv6());
  if (!b) b = bound(!peer.ipv6());
  if (!b) return Endpoint();
  const std::string addr = b->address();
  if (addr != "::" && addr != "0.0.0.0") return *b;
  // Bound to any address: the source the kernel would choose for @peer.
  const int probe = socket(peer.ipv6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return *b;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  Endpoint out = *b;
  if (connect(probe, peer.sa(), peer.len()) == 0 &&
      getsockname(probe, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    auto source = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (auto e = Endpoint::parse(source.address(), b->port())) out = *e;
  }
  close(probe);
  return out;
}

std::vector<int> UdpTransport::fds() const {
  std::vector<int> v;
  if (fd6_ >= 0) v.push_back(fd6_);
  if (fd4_ >= 0) v.push_back(fd4_);
  return v;
}

std::vector<UdpTransport::Datagram> UdpTransport::receive(int fd, size_t max) {
  std::vector<Datagram> out;
  std::string buf(kMaxDatagram + 1, '\0');
  while (out.size() < max) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const ssize_t n = recvfrom(fd, buf.data(), buf.size(), MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) break;  // EAGAIN: drained (other errors: the next poll retries)
    Datagram d;
    d.truncated = static_cast<size_t>(n) > kMaxDatagram;
    d.data.assign(buf.data(), std::min(static_cast<size_t>(n), kMaxDatagram));
    d.from = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace mapgw::sip
