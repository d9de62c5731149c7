// A UDP endpoint (address and port, IPv6 or IPv4) and how SIP writes it:
// IPv6 hosts in brackets in Via, Contact, Route and Request-URIs
// (RFC 3261 §19.1.1, RFC 5118).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "loader/result.h"

namespace mapgw::sip {

class Endpoint {
 public:
  Endpoint() = default;
  // A numeric address ("2001:db8::1", "[2001:db8::1]", "192.0.2.1").
  static Result<Endpoint> parse(std::string_view host, uint16_t port);
  // A numeric address or a name from /etc/hosts or DNS (getaddrinfo;
  // blocking: used for configured peers at start, never per message).
  static Result<Endpoint> resolve(const std::string& host, uint16_t port);
  static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len);

  bool ipv6() const { return ss_.ss_family == AF_INET6; }
  bool valid() const { return ss_.ss_family == AF_INET6 || ss_.ss_family == AF_INET; }
  std::string address() const;  // no brackets
  std::string host() const;     // brackets for IPv6: what goes into a SIP URI or Via
  uint16_t port() const;
  std::string str() const { return host() + ":" + std::to_string(port()); }

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss_); }
  socklen_t len() const { return len_; }
  bool operator==(const Endpoint& o) const { return str() == o.str(); }

 private:
  sockaddr_storage ss_{};
  socklen_t len_ = 0;
};

}  // namespace mapgw::sip
