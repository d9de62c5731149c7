// A UDP peer of the server as the LNS sees it: an opaque string
// "[2001:db8::7]:1701" or "192.0.2.7:1701", turned into a socket address
// and back, and its host part. Behind one NAT every client's L2TP comes
// from the same address and port (1701 inside ESP, transport mode); then
// the packet mark of the IPsec SA it came through tells them apart
// ("192.0.2.7:1701#3"), and replies carry that mark to go out through the
// same SA. What IPsec is keyed on, the "IPsec key", is the host, or host
// and mark ("192.0.2.7#3").
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>

namespace mapgw::l2tp {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  uint32_t mark = 0;  // the IPsec SA's (0: none)

  static std::optional<Endpoint> parse(const std::string& s);
  static Endpoint from(const sockaddr* sa, socklen_t len);
  bool ipv6() const { return addr.ss_family == AF_INET6; }
  std::string str() const;
  std::string host() const;  // "2001:db8::7" / "192.0.2.7"
  std::string address_bytes() const;  // the 16 or 4 bytes of the address, for lookups
  std::string ipsec_key() const;      // "192.0.2.7" / "192.0.2.7#3"
  // address_bytes(), then the mark's 4 bytes if there is one: ipsec_key()
  // in the form the data path looks up per datagram.
  std::string ipsec_key_bytes() const;
};

// The IPsec key of a peer string.
std::string peer_ipsec_key(const std::string& peer);
// An IPsec key from its parts.
std::string ipsec_key(const std::string& host, uint32_t mark);
// The lookup bytes of an IPsec key from its parts ("" if @host is no address).
std::string ipsec_key_bytes(const std::string& host, uint32_t mark);

// The host part of a peer string.
std::string peer_host(const std::string& peer);
// "2001:db8::7" / "192.0.2.7" as Endpoint::address_bytes() has it; "" if neither.
std::string host_bytes(const std::string& host);

}  // namespace mapgw::l2tp
