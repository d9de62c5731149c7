// The NAT log for abuse response (book §5.3.2, RFC 6302): one JSON line per
// binding (and optionally session) created or deleted, with timestamp,
// protocol, inside address:port, outside address:port and, for sessions,
// the remote endpoint. Creations come from the data plane through a ring
// buffer (rate-limited there, losses counted as natlog_lost /
// natlog_rate_limited); deletions come from the sweeper.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "loader/result.h"
#include "agent/net/ip.h"
#include "mapgw_abi.h"

namespace mapgw {

class NatLogWriter {
 public:
  // @destination: "syslog" or "file:/path" (appended to).
  static Result<std::unique_ptr<NatLogWriter>> open(const std::string& destination);
  ~NatLogWriter();

  // @outside: the CE's public IPv4 address (the event carries only the port).
  void write(const mapgw_natlog_event& ev, Ipv4Addr outside);
  // A file destination opened again by its path, for log rotation (the
  // daemon calls it on SIGHUP and `mapgwctl reload`): lines written after
  // it go to whatever file now has the name. If that cannot be opened the
  // old file stays in use, so no line is lost, and the error is returned.
  // Syslog needs nothing.
  Status reopen();
  uint64_t written() const { return written_; }
  uint64_t errors() const { return errors_; }

  // The JSON line for an event (no newline); @mono_to_real_ns converts the
  // data plane's monotonic timestamps to wall-clock time.
  static std::string format(const mapgw_natlog_event& ev, Ipv4Addr outside, int64_t mono_to_real_ns);

 private:
  NatLogWriter() = default;
  int fd_ = -1;  // -1 with syslog_ = true: syslog
  bool syslog_ = false;
  std::string path_;
  uint64_t written_ = 0, errors_ = 0;
};

}  // namespace mapgw
