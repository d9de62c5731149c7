// A VICI client on a non-blocking UNIX stream socket, for an event loop:
// commands and event (un)registrations queue up and go one at a time (the
// protocol has no sequence numbers: one request in flight per connection),
// each completes with its reply; events arriving at any time go to the
// event handler by name. A lost connection fails every pending request;
// reconnecting is the owner's (the charon supervisor's) decision.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "vpn/vici/packet.h"

namespace mapgw::vici {

class Client {
 public:
  using Reply = std::function<void(Result<Message>)>;
  using EventHandler = std::function<void(const std::string& name, const Message& m)>;

  static Result<std::unique_ptr<Client>> connect(const std::string& socket_path);
  ~Client();

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  void set_event_handler(EventHandler h) { on_event_ = std::move(h); }

  // Queues a command; @done gets the response, or an error (unknown
  // command, connection lost).
  void request(const std::string& command, Message args, Reply done);
  // Registers for an event; @done gets an empty message on confirmation.
  void subscribe(const std::string& event, Reply done);

  // The socket is readable: takes what arrived, completes replies, raises
  // events. false when the connection is gone (pending requests failed).
  bool on_readable();
  // Writes what is queued; wants_write() tells whether EPOLLOUT is needed.
  bool flush();
  bool wants_write() const { return !out_.empty(); }
  size_t pending() const { return queue_.size() + (in_flight_ ? 1 : 0); }

  // Blocking, for start-up and tests: sends @command and waits up to
  // @timeout for its response (events keep going to the handler).
  Result<Message> call(const std::string& command, Message args, std::chrono::milliseconds timeout);
  Status subscribe_now(const std::string& event, std::chrono::milliseconds timeout);

 private:
  struct Pending {
    Packet packet;
    Reply done;
  };
  explicit Client(int fd) : fd_(fd) {}
  void send_next();
  void fail_all(const std::string& why);
  void complete(Result<Message> r);
  struct Waiter {
    bool done = false;
    Result<Message> result = make_error("unanswered");
  };
  Result<Message> wait_for(const std::shared_ptr<Waiter>& w, std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string out_;
  PacketReader reader_;
  std::deque<Pending> queue_;
  std::unique_ptr<Pending> in_flight_;
  EventHandler on_event_;
};

}  // namespace mapgw::vici
