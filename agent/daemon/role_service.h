// What the daemon needs from a role (BR or CE): apply and undo a
// configuration, answer the control socket, and, for roles with timers or
// BPF events, the descriptors to watch.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "loader/result.h"
#include "agent/config/config.h"
#include "agent/daemon/control_server.h"

namespace mapgw {

class RoleService {
 public:
  virtual ~RoleService() = default;

  // Apply a new configuration atomically, or reject it and keep the old.
  virtual Status reload(const Config& cfg) = 0;
  virtual void stop() = 0;
  // Log files opened again by their names (after rotation renamed them).
  virtual Status reopen_logs() { return Status::Ok(); }

  virtual nlohmann::json status() const = 0;
  virtual nlohmann::json rules() const = 0;
  virtual nlohmann::json stats() const = 0;
  // The metrics snapshot (shape documented in metrics.h).
  virtual nlohmann::json metrics() const = 0;

  // Role-specific control commands (the CE's sessions and ports).
  virtual void add_commands(ControlServer&) {}
  // Descriptors to watch and what to do when one is readable.
  virtual std::vector<int> event_fds() const { return {}; }
  virtual void on_event(int /*fd*/) {}
};

}  // namespace mapgw
