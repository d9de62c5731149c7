#include "agent/daemon/control_server.h"
#include "agent/util/json_text.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

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
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

const char* type_name(ControlServer::Field::Type t) {
  switch (t) {
    case ControlServer::Field::Type::kString: return "a string";
    case ControlServer::Field::Type::kBool: return "true or false";
    case ControlServer::Field::Type::kNumber: return "a number";
  }
  return "?";
}

bool has_type(const nlohmann::json& v, ControlServer::Field::Type t) {
  switch (t) {
    case ControlServer::Field::Type::kString: return v.is_string();
    case ControlServer::Field::Type::kBool: return v.is_boolean();
    case ControlServer::Field::Type::kNumber: return v.is_number();
  }
  return false;
}

// Why @req does not fit @fields of @cmd ("" if it does).
std::string refusal(const std::string& cmd, const std::vector<ControlServer::Field>& fields,
                    const nlohmann::json& req) {
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& key = it.key();
    if (key == "cmd") continue;
    auto f = std::find_if(fields.begin(), fields.end(), [&key](const auto& f) { return f.name == key; });
    if (f == fields.end()) return "\"" + cmd + "\" takes no field \"" + key + "\"";
    if (!has_type(it.value(), f->type)) return "\"" + key + "\" must be " + type_name(f->type);
  }
  for (const auto& f : fields) {
    if (f.required && !req.contains(f.name)) return "\"" + cmd + "\" needs \"" + f.name + "\"";
  }
  return "";
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
  if (rc != 0 || ::listen(fd, kBacklog) != 0) {
    int err = errno;
    close(fd);
    return make_error("binding control socket " + path, err);
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close(fd);
    if (ep >= 0) close(ep);
    return make_error("control socket epoll", err);
  }
  return ControlServer(fd, ep, path);
}

ControlServer::ControlServer(ControlServer&& o) noexcept
    : listen_fd_(std::exchange(o.listen_fd_, -1)),
      ep_(std::exchange(o.ep_, -1)),
      path_(std::move(o.path_)),
      commands_(std::move(o.commands_)),
      clients_(std::move(o.clients_)),
      deadline_(o.deadline_) {
  o.clients_.clear();
}

ControlServer::~ControlServer() {
  for (auto& [fd, c] : clients_) close(fd);
  if (ep_ >= 0) close(ep_);
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    unlink(path_.c_str());
  }
}

nlohmann::json ControlServer::dispatch(const std::string& line) const {
  auto req = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded() || !req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
    return {{"error", "request must be a JSON object with a string \"cmd\""}};
  }
  const std::string cmd = req["cmd"];
  if (cmd == "ping") return {{"pong", true}};
  auto it = commands_.find(cmd);
  if (it == commands_.end()) return {{"error", "unknown command \"" + cmd + "\""}};
  if (auto why = refusal(cmd, it->second.fields, req); !why.empty()) return {{"error", why}};
  // A handler's own slip on a request it did not expect (a wrong type
  // nlohmann reports by exception) answers this client, not kills the
  // daemon; handlers check their fields (request_fields.h) and say more.
  try {
    return it->second.handler(req);
  } catch (const nlohmann::json::exception& e) {
    return {{"error", std::string("bad request: ") + e.what()}};
  } catch (const std::exception& e) {
    return {{"error", std::string("internal error: ") + e.what()}};
  }
}

void ControlServer::poll() {
  epoll_event got[32];
  const int n = epoll_wait(ep_, got, 32, 0);
  for (int i = 0; i < n; ++i) {
    if (got[i].data.fd == listen_fd_) {
      accept_all();
    } else {
      on_client(got[i].data.fd, got[i].events);
    }
  }
  expire();
}

int ControlServer::next_timeout_ms() const {
  if (clients_.empty()) return -1;
  auto first = Clock::time_point::max();
  for (const auto& [fd, c] : clients_) first = std::min(first, c.deadline);
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(first - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

void ControlServer::accept_all() {
  while (clients_.size() < kMaxClients) {
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;  // EAGAIN: no more for now
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c, &ev) != 0) {
      close(c);
      continue;
    }
    clients_[c].deadline = Clock::now() + deadline_;
  }
  // Full: stop listening until a slot frees (the backlog holds the rest).
  epoll_event ev{};
  ev.data.fd = listen_fd_;
  epoll_ctl(ep_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void ControlServer::on_client(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = it->second;
  if (c.out.empty()) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_from(fd, c);
  } else if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    write_to(fd, c);
  }
}

void ControlServer::read_from(int fd, Client& c) {
  char buf[16384];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return drop(fd);  // gone
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: the rest later
    }
    c.in.append(buf, static_cast<size_t>(n));
    const size_t nl = c.in.find('\n');
    if (nl != std::string::npos) {
      c.in.resize(nl);
      c.out = json_text(dispatch(c.in)) + "\n";
      c.deadline = Clock::now() + deadline_;  // as long again to take the answer
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.fd = fd;
      epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
      return write_to(fd, c);
    }
    if (c.in.size() > kMaxRequest) return drop(fd);
  }
}

void ControlServer::write_to(int fd, Client& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n = send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // EPOLLOUT brings us back
    if (n <= 0) return drop(fd);           // hung up: its loss
    c.sent += static_cast<size_t>(n);
  }
  drop(fd);  // answered
}

void ControlServer::drop(int fd) {
  epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  const bool was_full = clients_.size() >= kMaxClients;
  clients_.erase(fd);
  if (was_full) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    epoll_ctl(ep_, EPOLL_CTL_MOD, listen_fd_, &ev);
  }
}

void ControlServer::expire() {
  const auto now = Clock::now();
  std::vector<int> late;
  for (const auto& [fd, c] : clients_) {
    if (c.deadline <= now) late.push_back(fd);
  }
  for (int fd : late) drop(fd);
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
  bool ok = write_all(fd, json_text(request) + "\n") && read_line(fd, line, kMaxReply);
  close(fd);
  if (!ok) return make_error("no answer from mapgw at " + path);
  auto reply = nlohmann::json::parse(line, nullptr, false);
  if (reply.is_discarded()) return make_error("mapgw sent a reply that is not JSON");
  return reply;
}

}  // namespace mapgw
