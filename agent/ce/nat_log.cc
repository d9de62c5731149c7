#include "agent/ce/nat_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "agent/br/rule_history.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

int64_t mono_to_real_now() {
  timespec r{}, m{};
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m);
  return (int64_t(r.tv_sec) - int64_t(m.tv_sec)) * 1'000'000'000LL + (r.tv_nsec - m.tv_nsec);
}

const char* type_name(uint8_t t) {
  switch (t) {
    case MAPGW_NATLOG_BINDING_CREATE: return "binding_create";
    case MAPGW_NATLOG_SESSION_CREATE: return "session_create";
    case MAPGW_NATLOG_BINDING_DELETE: return "binding_delete";
    case MAPGW_NATLOG_SESSION_DELETE: return "session_delete";
    default: return "unknown";
  }
}

// Opens the log for root's appends, refusing what another local user could
// have planted in a directory they can write to: a symbolic link (O_NOFOLLOW)
// or a hard link to another file, or a file that is not ours.
Result<int> open_for_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    return make_error("opening the NAT log " + path + (errno == ELOOP ? " (a symbolic link: refused)" : ""),
                      errno);
  }
  struct stat st {};
  std::string why;
  if (fstat(fd, &st) != 0) why = "cannot stat it";
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  else if (st.st_nlink != 1) why = "it has other hard links";
  else if (st.st_uid != geteuid()) why = "it belongs to uid " + std::to_string(st.st_uid);
  else if (st.st_mode & (S_IWGRP | S_IWOTH)) why = "others may write to it";
  if (!why.empty()) {
    close(fd);
    return make_error("refusing the NAT log " + path + ": " + why);
  }
  return fd;
}

const char* proto_text(uint8_t p) {
  return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" : "?";
}

}  // namespace

Result<std::unique_ptr<NatLogWriter>> NatLogWriter::open(const std::string& dest) {
  std::unique_ptr<NatLogWriter> w(new NatLogWriter());
  if (dest == "syslog") {
    openlog("mapgw-nat", LOG_NDELAY, LOG_DAEMON);
    w->syslog_ = true;
    return w;
  }
  if (dest.rfind("file:", 0) != 0) {
    return make_error("nat_log destination must be \"syslog\" or \"file:/path\", not \"" + dest + "\"");
  }
  w->path_ = dest.substr(5);
  auto fd = open_for_append(w->path_);
  if (!fd) return fd.error();
  w->fd_ = *fd;
  return w;
}

Status NatLogWriter::reopen() {
  if (syslog_) return Status::Ok();
  auto fd = open_for_append(path_);
  if (!fd) return make_error(fd.error().describe() + " (still writing to the old file)");
  close(fd_);
  fd_ = *fd;
  return Status::Ok();
}

NatLogWriter::~NatLogWriter() {
  if (fd_ >= 0) close(fd_);
  if (syslog_) closelog();
}

std::string NatLogWriter::format(const mapgw_natlog_event& ev, Ipv4Addr outside,
                                 int64_t mono_to_real_ns) {
  const int64_t real_ms = (int64_t(ev.ts_ns) + mono_to_real_ns) / 1'000'000;
  nlohmann::json j = {{"ts", format_time_ms(real_ms)},
                      {"event", type_name(ev.type)},
                      {"proto", proto_text(ev.proto)},
                      {"inside", Ipv4Addr{ntohl(ev.in_addr)}.str() + ":" + std::to_string(ntohs(ev.in_port))},
                      {"outside", outside.str() + ":" + std::to_string(ntohs(ev.ext_port))}};
  if (ev.type == MAPGW_NATLOG_SESSION_CREATE || ev.type == MAPGW_NATLOG_SESSION_DELETE) {
    j["remote"] = Ipv4Addr{ntohl(ev.rem_addr)}.str() + ":" + std::to_string(ntohs(ev.rem_port));
  }
  return json_text(j);
}

void NatLogWriter::write(const mapgw_natlog_event& ev, Ipv4Addr outside) {
  const std::string line = format(ev, outside, mono_to_real_now());
  if (syslog_) {
    syslog(LOG_INFO, "%s", line.c_str());
    ++written_;
    return;
  }
  const std::string with_nl = line + "\n";
  if (::write(fd_, with_nl.data(), with_nl.size()) == static_cast<ssize_t>(with_nl.size())) {
    ++written_;
  } else {
    ++errors_;
  }
}

}  // namespace mapgw
