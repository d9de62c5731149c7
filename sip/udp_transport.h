// SIP over UDP (RFC 3261 §18): one socket per address family on the
// configured local address and port. Datagrams up to the UDP limit are
// read whole; a larger one is truncated by the kernel and counted as
// oversized by the caller (MSG_TRUNC). TCP and TLS are not offered
// (README, "SIP").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/endpoint.h"

namespace mapgw::sip {

// Where the stack sends datagrams; tests capture them instead.
class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  virtual Status send(const Endpoint& to, std::string_view data) = 0;
  // The local endpoint that sends towards @peer: what goes into Via and
  // Contact (a socket bound to :: or 0.0.0.0 answers with the source
  // address the kernel's routing picks for @peer).
  virtual Endpoint local_for(const Endpoint& peer) const = 0;
};

class UdpTransport : public DatagramSink {
 public:
  static constexpr size_t kMaxDatagram = 65535;

  // @v6 and @v4 are local endpoints (port 0: the kernel picks, for tests);
  // either may be absent, not both.
  static Result<std::unique_ptr<UdpTransport>> open(std::optional<Endpoint> v6,
                                                    std::optional<Endpoint> v4);
  ~UdpTransport() override;

  Status send(const Endpoint& to, std::string_view data) override;
  Endpoint local_for(const Endpoint& peer) const override;
  // The bound endpoint of a family (the port chosen when it was 0).
  std::optional<Endpoint> bound(bool ipv6) const;
  std::vector<int> fds() const;

  struct Datagram {
    std::string data;
    Endpoint from;
    bool truncated = false;
  };
  // Reads what is queued on @fd now, at most @max datagrams.
  std::vector<Datagram> receive(int fd, size_t max);

 private:
  UdpTransport() = default;
  int fd6_ = -1, fd4_ = -1;
  Endpoint local6_, local4_;
};

}  // namespace mapgw::sip
