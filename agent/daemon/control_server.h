// The daemon's control socket: a UNIX stream socket (mode 0600) speaking one
// JSON object per line each way. A request is {"cmd": "<name>", ...}; the
// reply is the handler's object, or {"error": "..."}. One request per
// connection, handled to completion; a client that does not send a full
// line within a second is dropped, so it cannot stall the daemon.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "loader/result.h"

namespace mapgw {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  static Result<ControlServer> listen(const std::string& path);

  void add(const std::string& cmd, Handler h) { handlers_[cmd] = std::move(h); }
  int fd() const { return fd_; }
  // Accepts and serves one pending client (call when fd() is readable).
  void serve_one();

  ControlServer(ControlServer&& o) noexcept;
  ControlServer& operator=(ControlServer&&) = delete;
  ControlServer(const ControlServer&) = delete;
  ~ControlServer();

 private:
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  nlohmann::json dispatch(const std::string& line);

  int fd_ = -1;
  std::string path_;
  std::map<std::string, Handler> handlers_;
};

// Client side (mapgwctl): send one request, return the reply object.
Result<nlohmann::json> control_request(const std::string& path, const nlohmann::json& request);

}  // namespace mapgw
