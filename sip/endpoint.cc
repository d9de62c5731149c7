#include "sip/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace mapgw::sip {

Result<Endpoint> Endpoint::parse(std::string_view host, uint16_t port) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  Endpoint e;
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&e.ss_);
  auto* s4 = reinterpret_cast<sockaddr_in*>(&e.ss_);
  if (inet_pton(AF_INET6, h.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    e.len_ = sizeof(sockaddr_in6);
    return e;
  }
  std::memset(&e.ss_, 0, sizeof e.ss_);
  if (inet_pton(AF_INET, h.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    e.len_ = sizeof(sockaddr_in);
    return e;
  }
  return make_error("'" + std::string(host) + "' is not a numeric IPv6 or IPv4 address");
}

Result<Endpoint> Endpoint::resolve(const std::string& host, uint16_t port) {
  if (auto numeric = parse(host, port)) return numeric;
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) return make_error("resolving '" + host + "': " + gai_strerror(rc));
  // IPv6 first: the NGN is IPv6 (SPEC.md §4).
  const addrinfo* pick = res;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET6) {
      pick = a;
      break;
    }
  }
  Endpoint e = from_sockaddr(pick->ai_addr, pick->ai_addrlen);
  freeaddrinfo(res);
  if (e.ipv6()) reinterpret_cast<sockaddr_in6*>(&e.ss_)->sin6_port = htons(port);
  else reinterpret_cast<sockaddr_in*>(&e.ss_)->sin_port = htons(port);
  return e;
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (len > sizeof e.ss_) len = sizeof e.ss_;
  std::memcpy(&e.ss_, sa, len);
  e.len_ = len;
  return e;
}

std::string Endpoint::address() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ipv6()) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, buf, sizeof buf);
  } else if (valid()) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof buf);
  }
  return buf;
}

std::string Endpoint::host() const { return ipv6() ? "[" + address() + "]" : address(); }

uint16_t Endpoint::port() const {
  if (ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  if (valid()) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  return 0;
}

}  // namespace mapgw::sip
