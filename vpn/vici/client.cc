#include "vpn/vici/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mapgw::vici {

Result<std::unique_ptr<Client>> Client::connect(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return make_error("VICI socket path too long: " + path);
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error("VICI socket", errno);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    const int e = errno;
    close(fd);
    return make_error("connecting to charon's VICI socket " + path, e);
  }
  return std::unique_ptr<Client>(new Client(fd));
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  fail_all("VICI client closed");
}

void Client::request(const std::string& command, Message args, Reply done) {
  Pending p{{PacketType::kCmdRequest, command, std::move(args)}, std::move(done)};
  queue_.push_back(std::move(p));
  send_next();
}

void Client::subscribe(const std::string& event, Reply done) {
  Pending p{{PacketType::kEventRegister, event, Message()}, std::move(done)};
  queue_.push_back(std::move(p));
  send_next();
}

void Client::send_next() {
  if (in_flight_ || queue_.empty() || fd_ < 0) return;
  in_flight_ = std::make_unique<Pending>(std::move(queue_.front()));
  queue_.pop_front();
  auto bytes = frame(in_flight_->packet);
  if (!bytes) {
    complete(bytes.error());
    return;
  }
  out_ += *bytes;
  flush();
}

bool Client::flush() {
  while (!out_.empty() && fd_ >= 0) {
    const ssize_t n = send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    close(fd_);
    fd_ = -1;
    fail_all("VICI connection lost while sending");
    return false;
  }
  return fd_ >= 0;
}

void Client::complete(Result<Message> r) {
  auto p = std::move(in_flight_);
  if (p && p->done) p->done(std::move(r));
  send_next();
}

void Client::fail_all(const std::string& why) {
  auto flight = std::move(in_flight_);
  if (flight && flight->done) flight->done(make_error(why));
  auto queue = std::move(queue_);
  queue_.clear();
  for (auto& p : queue) {
    if (p.done) p.done(make_error(why));
  }
}

bool Client::on_readable() {
  if (fd_ < 0) return false;
  char buf[16384];
  for (;;) {
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close(fd_);
    fd_ = -1;
    // What arrived before the close still counts.
    break;
  }
  for (;;) {
    auto next = reader_.next();
    if (!next) {
      if (fd_ >= 0) close(fd_);
      fd_ = -1;
      fail_all(next.error().message);
      return false;
    }
    if (!*next) break;
    Packet& p = **next;
    switch (p.type) {
      case PacketType::kEvent:
        if (on_event_) on_event_(p.name, p.message);
        break;
      case PacketType::kCmdResponse:
        complete(std::move(p.message));
        break;
      case PacketType::kEventConfirm:
        complete(Message());
        break;
      case PacketType::kCmdUnknown:
        complete(make_error("charon does not know the VICI command '" +
                            (in_flight_ ? in_flight_->packet.name : std::string("?")) + "'"));
        break;
      case PacketType::kEventUnknown:
        complete(make_error("charon has no VICI event '" +
                            (in_flight_ ? in_flight_->packet.name : std::string("?")) + "'"));
        break;
      default:
        break;  // requests are ours to send, not to receive
    }
  }
  if (fd_ < 0) {
    fail_all("VICI connection closed by charon");
    return false;
  }
  return true;
}

Result<Message> Client::wait_for(const std::shared_ptr<Waiter>& w, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!w->done) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || fd_ < 0) break;
    pollfd p{fd_, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    if (p.revents & POLLOUT) flush();
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) on_readable();
  }
  // On a timeout the reply may still come: it lands in the shared waiter,
  // not in this stack frame.
  if (!w->done) return make_error("no answer from charon over VICI in time");
  return w->result;
}

Result<Message> Client::call(const std::string& command, Message args, std::chrono::milliseconds timeout) {
  auto w = std::make_shared<Waiter>();
  request(command, std::move(args), [w](Result<Message> r) {
    w->result = std::move(r);
    w->done = true;
  });
  return wait_for(w, timeout);
}

Status Client::subscribe_now(const std::string& event, std::chrono::milliseconds timeout) {
  auto w = std::make_shared<Waiter>();
  subscribe(event, [w](Result<Message> r) {
    w->result = std::move(r);
    w->done = true;
  });
  auto r = wait_for(w, timeout);
  if (!r) return r.error();
  return Status::Ok();
}

}  // namespace mapgw::vici
