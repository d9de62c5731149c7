#include "vpn/l2tp/endpoint.h"

#include <arpa/inet.h>

#include <cstring>

namespace mapgw::l2tp {

std::optional<Endpoint> Endpoint::parse(const std::string& text) {
  Endpoint e;
  std::string s = text;
  if (const size_t hash = s.rfind('#'); hash != std::string::npos) {
    const std::string m = s.substr(hash + 1);
    if (m.empty() || m.size() > 10 || m.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const unsigned long long v = std::stoull(m);
    if (v == 0 || v > 0xffffffffULL) return std::nullopt;
    e.mark = static_cast<uint32_t>(v);
    s.resize(hash);
  }
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size()) return std::nullopt;
  const std::string port_text = s.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long port = std::stoul(port_text);
  if (port == 0 || port > 65535) return std::nullopt;
  if (!s.empty() && s.front() == '[') {
    if (colon < 2 || s[colon - 1] != ']') return std::nullopt;
    auto* a = reinterpret_cast<sockaddr_in6*>(&e.addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, s.substr(1, colon - 2).c_str(), &a->sin6_addr) != 1) return std::nullopt;
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&e.addr);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &a->sin_addr) != 1) return std::nullopt;
  e.len = sizeof(sockaddr_in);
  return e;
}

Endpoint Endpoint::from(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  std::memcpy(&e.addr, sa, std::min<size_t>(len, sizeof e.addr));
  e.len = len;
  return e;
}

std::string Endpoint::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ipv6()) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
  }
  return buf;
}

std::string Endpoint::address_bytes() const {
  if (ipv6()) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr;
    return std::string(reinterpret_cast<const char*>(&a), 16);
  }
  const auto& a = reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr;
  return std::string(reinterpret_cast<const char*>(&a), 4);
}

std::string Endpoint::str() const {
  const uint16_t port = ipv6() ? ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port)
                               : ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  const std::string hp = ipv6() ? "[" + host() + "]:" + std::to_string(port) : host() + ":" + std::to_string(port);
  return mark ? hp + "#" + std::to_string(mark) : hp;
}

std::string Endpoint::ipsec_key() const { return l2tp::ipsec_key(host(), mark); }

namespace {

std::string with_mark(std::string bytes, uint32_t mark) {
  if (!mark || bytes.empty()) return bytes;
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(mark >> shift));
  return bytes;
}

}  // namespace

std::string Endpoint::ipsec_key_bytes() const { return with_mark(address_bytes(), mark); }

std::string ipsec_key(const std::string& host, uint32_t mark) {
  return mark ? host + "#" + std::to_string(mark) : host;
}

std::string ipsec_key_bytes(const std::string& host, uint32_t mark) { return with_mark(host_bytes(host), mark); }

std::string peer_ipsec_key(const std::string& peer) {
  auto e = Endpoint::parse(peer);
  return e ? e->ipsec_key() : std::string();
}

std::string host_bytes(const std::string& host) {
  unsigned char buf[16];
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  return "";
}

std::string peer_host(const std::string& peer) {
  auto e = Endpoint::parse(peer);
  return e ? e->host() : std::string();
}

}  // namespace mapgw::l2tp
