// The control socket against careless and hostile clients: wrong field
// types, silent and trickling clients, clients that hang up before their
// answer. The server runs on this thread, driven by poll() as the daemon's
// event loop drives it.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "agent/daemon/control_server.h"

namespace mapgw {
namespace {

using namespace std::chrono_literals;
using Type = ControlServer::Field::Type;

std::string socket_path(const char* name) {
  return ::testing::TempDir() + "/ctl-" + name + "-" + std::to_string(getpid()) + ".sock";
}

int connect_to(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  return fd;
}

// Serves until @done says so or @limit passes; true if @done.
template <typename Done>
bool serve_until(ControlServer& s, Done done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{s.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    s.poll();
    if (done()) return true;
  }
  return false;
}

// Everything the server sent @fd until it closed (the server side must
// keep being served meanwhile: call from serve_until's predicate).
bool read_some(int fd, std::string& out) {
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) return true;  // closed: all there
  out.append(buf, static_cast<size_t>(n));
  return false;
}

ControlServer make(const char* name) {
  auto s = ControlServer::listen(socket_path(name));
  EXPECT_TRUE(s.ok()) << s.error().describe();
  s->add("whois", {{"addr", Type::kString, true}, {"at", Type::kString}},
         [](const nlohmann::json& r) { return nlohmann::json{{"addr", r["addr"]}}; });
  s->add("big", [](const nlohmann::json&) { return nlohmann::json{{"blob", std::string(4 << 20, 'x')}}; });
  s->add("throws", [](const nlohmann::json& r) { return nlohmann::json{{"n", r.at("missing").get<int>()}}; });
  return std::move(*s);
}

TEST(ControlServer, EveryFieldTypeChecked) {
  ControlServer s = make("fields");
  auto err = [&](const std::string& line) {
    auto r = s.dispatch(line);
    return r.contains("error") ? r["error"].get<std::string>() : std::string();
  };
  // The attack run's line that killed the BR (uncaught type_error).
  EXPECT_EQ(err(R"({"cmd":"whois","addr":5})"), "\"addr\" must be a string");
  EXPECT_EQ(err(R"({"cmd":"whois"})"), "\"whois\" needs \"addr\"");
  EXPECT_EQ(err(R"({"cmd":"whois","addr":"1.2.3.4:5","at":1.5})"), "\"at\" must be a string");
  EXPECT_EQ(err(R"({"cmd":"whois","addr":"1.2.3.4:5","hots":"x"})"), "\"whois\" takes no field \"hots\"");
  EXPECT_EQ(err(R"({"cmd":"whois","addr":"1.2.3.4:5"})"), "");
  EXPECT_EQ(err(R"({"cmd":5})"), "request must be a JSON object with a string \"cmd\"");
  EXPECT_EQ(err(R"([1,2])"), "request must be a JSON object with a string \"cmd\"");
  EXPECT_EQ(err("\xff\xfe"), "request must be a JSON object with a string \"cmd\"");
  EXPECT_NE(err(R"({"cmd":"throws"})").find("bad request"), std::string::npos);
}

// A client that connects and says nothing, and one that trickles a byte at
// a time, hold only their own slots: another client is answered at once,
// and both are dropped at their deadline.
TEST(ControlServer, SilentAndTricklingClientsBlockNoOne) {
  ControlServer s = make("slow");
  s.set_deadline(300ms);
  const std::string path = socket_path("slow");
  int silent = connect_to(path);
  int trickle = connect_to(path);
  ASSERT_EQ(write(trickle, "{", 1), 1);
  int good = connect_to(path);
  const std::string req = R"({"cmd":"ping"})" "\n";
  ASSERT_EQ(write(good, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string reply;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(serve_until(s, [&] { return read_some(good, reply); }, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms) << "the answer waited for the slow clients";
  EXPECT_EQ(reply, "{\"pong\":true}\n");
  // Keep trickling: the deadline is for the whole exchange, not per byte.
  for (int i = 0; i < 5; ++i) {
    serve_until(s, [] { return false; }, 80ms);
    (void)!send(trickle, " ", 1, MSG_NOSIGNAL);  // it may be gone already
  }
  EXPECT_TRUE(serve_until(s, [&] { return s.clients() == 0; }, 1s)) << s.clients() << " clients left";
  for (int fd : {silent, trickle, good}) close(fd);
}

// A client that hangs up before it reads its (large) answer: the server
// neither dies of SIGPIPE (this test process would) nor keeps the client.
TEST(ControlServer, ClientThatHangsUpCostsOnlyItsAnswer) {
  ControlServer s = make("hangup");
  const std::string path = socket_path("hangup");
  for (int i = 0; i < 3; ++i) {
    int fd = connect_to(path);
    const std::string req = R"({"cmd":"big"})" "\n";
    ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    serve_until(s, [] { return false; }, 30ms);  // reading done, answer under way
    close(fd);
  }
  EXPECT_TRUE(serve_until(s, [&] { return s.clients() == 0; }, 2s));
  int fd = connect_to(path);
  const std::string req = R"({"cmd":"ping"})" "\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string reply;
  EXPECT_TRUE(serve_until(s, [&] { return read_some(fd, reply); }, 2s));
  EXPECT_EQ(reply, "{\"pong\":true}\n");
  close(fd);
}

// More clients than slots: the rest wait in the backlog and are served as
// slots free, none refused.
TEST(ControlServer, ManyClientsAtOnce) {
  ControlServer s = make("many");
  const std::string path = socket_path("many");
  std::vector<int> fds;
  const std::string req = R"({"cmd":"ping"})" "\n";
  for (size_t i = 0; i < ControlServer::kMaxClients + 40; ++i) {
    fds.push_back(connect_to(path));
    ASSERT_EQ(write(fds.back(), req.data(), req.size()), static_cast<ssize_t>(req.size()));
  }
  std::vector<std::string> replies(fds.size());
  std::vector<bool> done(fds.size(), false);
  ASSERT_TRUE(serve_until(s, [&] {
    bool all = true;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!done[i]) done[i] = read_some(fds[i], replies[i]);
      all = all && done[i];
    }
    return all;
  }, 5s));
  for (const auto& r : replies) EXPECT_EQ(r, "{\"pong\":true}\n");
  for (int fd : fds) close(fd);
}

}  // namespace
}  // namespace mapgw
