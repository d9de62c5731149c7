// A UDP peer of the server as the LNS sees it: an opaque string
// "[2001:db8::7]:1701" or "192.0.2.7:1701", turned into a socket address
// and back, and its host part (what IPsec SAs are keyed on).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>

namespace mapgw::l2tp {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;

  static std::optional<Endpoint> parse(const std::string& s);
  static Endpoint from(const sockaddr* sa, socklen_t len);
  bool ipv6() const { return addr.ss_family == AF_INET6; }
  std::string str() const;
  std::string host() const;  // "2001:db8::7" / "192.0.2.7"
  std::string address_bytes() const;  // the 16 or 4 bytes of the address, for lookups
};

// The host part of a peer string.
std::string peer_host(const std::string& peer);
// "2001:db8::7" / "192.0.2.7" as Endpoint::address_bytes() has it; "" if neither.
std::string host_bytes(const std::string& host);

}  // namespace mapgw::l2tp
