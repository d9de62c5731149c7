#include "agent/daemon/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mapgw {
namespace {

constexpr size_t kMaxRequest = 64 * 1024;
constexpr size_t kMaxReply = 64 * 1024 * 1024;  // a million sessions fit

Result<sockaddr_un> unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) return make_error("socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

void set_timeout(int fd, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads up to the first newline; false on timeout, EOF or more than @max.
bool read_line(int fd, std::string& out, size_t max) {
  char buf[65536];
  while (out.find('\n') == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 || out.size() + static_cast<size_t>(n) > max) return false;
    out.append(buf, static_cast<size_t>(n));
  }
  out.resize(out.find('\n'));
  return true;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<ControlServer> ControlServer::listen(const std::string& path) {
  auto addr = unix_addr(path);
  if (!addr) return addr.error();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error("control socket", errno);
  // A socket file left by a crashed daemon: replace it, but never steal one
  // that a live daemon still answers on.
  if (control_request(path, {{"cmd", "ping"}}).ok()) {
    close(fd);
    return make_error("another mapgw already listens on " + path);
  }
  unlink(path.c_str());
  const mode_t old = umask(077);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr));
  umask(old);
  if (rc != 0 || ::listen(fd, 16) != 0) {
    int err = errno;
    close(fd);
    return make_error("binding control socket " + path, err);
  }
  return ControlServer(fd, path);
}

ControlServer::ControlServer(ControlServer&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), handlers_(std::move(o.handlers_)) {}

ControlServer::~ControlServer() {
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

nlohmann::json ControlServer::dispatch(const std::string& line) {
  auto req = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded() || !req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
    return {{"error", "request must be a JSON object with a string \"cmd\""}};
  }
  const std::string cmd = req["cmd"];
  if (cmd == "ping") return {{"pong", true}};
  auto it = handlers_.find(cmd);
  if (it == handlers_.end()) return {{"error", "unknown command \"" + cmd + "\""}};
  return it->second(req);
}

void ControlServer::serve_one() {
  int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return;
  set_timeout(c, 1);
  std::string line;
  if (read_line(c, line, kMaxRequest)) write_all(c, dispatch(line).dump() + "\n");
  close(c);
}

Result<nlohmann::json> control_request(const std::string& path, const nlohmann::json& request) {
  auto addr = unix_addr(path);
  if (!addr) return addr.error();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket", errno);
  set_timeout(fd, 5);
  if (connect(fd, reinterpret_cast<sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    int err = errno;
    close(fd);
    return make_error("cannot reach mapgw at " + path + " (is the daemon running?)", err);
  }
  std::string line;
  bool ok = write_all(fd, request.dump() + "\n") && read_line(fd, line, kMaxReply);
  close(fd);
  if (!ok) return make_error("no answer from mapgw at " + path);
  auto reply = nlohmann::json::parse(line, nullptr, false);
  if (reply.is_discarded()) return make_error("mapgw sent a reply that is not JSON");
  return reply;
}

}  // namespace mapgw
