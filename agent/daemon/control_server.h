// The daemon's control socket: a UNIX stream socket (mode 0600) speaking one
// JSON object per line each way. A request is {"cmd": "<name>", ...}; the
// reply is the handler's object, or {"error": "..."}. One request per
// connection.
//
// Served without blocking on the daemon's one event loop: every client is a
// small state machine (reading its line, then writing the reply), so a slow
// or silent client holds nothing but its own slot. Each one has a deadline
// for the whole exchange; at most kMaxClients are served at once (more wait
// in the listen backlog). A client that hangs up early costs its reply,
// never the daemon (no SIGPIPE).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loader/result.h"

namespace mapgw {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  using Clock = std::chrono::steady_clock;

  // A request field a command takes besides "cmd". dispatch() refuses a
  // request with a field the command does not take, a field of another
  // type, or without a required one, before the handler sees it.
  struct Field {
    enum class Type { kString, kBool, kNumber };
    std::string name;
    Type type;
    bool required = false;
  };

  static constexpr size_t kMaxClients = 64;
  static constexpr int kBacklog = 128;
  static constexpr std::chrono::seconds kDeadline{5};  // per exchange

  static Result<ControlServer> listen(const std::string& path);

  void add(const std::string& cmd, std::vector<Field> fields, Handler h) {
    commands_[cmd] = {std::move(fields), std::move(h)};
  }
  void add(const std::string& cmd, Handler h) { add(cmd, {}, std::move(h)); }
  // Readable whenever a client or the listening socket needs attention
  // (an epoll descriptor of its own).
  int fd() const { return ep_; }
  // Does what is ready: accepts, reads, answers, writes; then drops clients
  // past their deadline.
  void poll();
  // Milliseconds until the next client deadline (-1: none): the longest the
  // event loop may sleep.
  int next_timeout_ms() const;
  size_t clients() const { return clients_.size(); }
  // Tests: a shorter deadline than kDeadline.
  void set_deadline(std::chrono::milliseconds d) { deadline_ = d; }

  // The reply to one request line (exposed for tests and fuzzing).
  nlohmann::json dispatch(const std::string& line) const;

  ControlServer(ControlServer&& o) noexcept;
  ControlServer& operator=(ControlServer&&) = delete;
  ControlServer(const ControlServer&) = delete;
  ~ControlServer();

 private:
  struct Client {
    std::string in;   // bytes read so far
    std::string out;  // the reply, once dispatched
    size_t sent = 0;
    Clock::time_point deadline;
  };

  ControlServer(int listen_fd, int ep, std::string path)
      : listen_fd_(listen_fd), ep_(ep), path_(std::move(path)) {}
  void accept_all();
  void on_client(int fd, uint32_t events);
  void read_from(int fd, Client& c);
  void write_to(int fd, Client& c);
  void drop(int fd);
  void expire();

  int listen_fd_ = -1;
  int ep_ = -1;
  std::string path_;
  struct Command {
    std::vector<Field> fields;
    Handler handler;
  };
  std::map<std::string, Command> commands_;
  std::map<int, Client> clients_;
  std::chrono::milliseconds deadline_ = kDeadline;
};

// Client side (mapgwctl): send one request, return the reply object.
Result<nlohmann::json> control_request(const std::string& path, const nlohmann::json& request);

}  // namespace mapgw
