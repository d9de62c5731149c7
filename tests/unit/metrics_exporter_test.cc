// The metrics endpoint with idle and slow clients connected: the attack
// run found that two idle TCP connections delayed every scrape to ~30 s
// and eight blocked it (two civetweb workers, a 30 s read timeout).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "agent/daemon/metrics.h"

namespace mapgw {
namespace {

int connect_local(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// One GET /metrics; the body, or "" when no answer came within @limit.
std::string scrape(uint16_t port, std::chrono::seconds limit) {
  int fd = connect_local(port);
  timeval tv{static_cast<time_t>(limit.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
  EXPECT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(MetricsExporter, ScrapesStayFastWithIdleAndSlowClients) {
  std::mutex lock;
  const uint16_t port = static_cast<uint16_t>(20000 + getpid() % 20000);
  auto m = MetricsExporter::start("127.0.0.1:" + std::to_string(port), [] {
    return nlohmann::json{{"counters", nlohmann::json::object()},
                          {"gauges", {{{"name", "mapgw_test_up"}, {"help", "up"}, {"value", 1}}}}};
  }, lock);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(connect_local(port));  // say nothing
  for (int i = 0; i < 4; ++i) {  // start a request, never finish it
    idle.push_back(connect_local(port));
    ASSERT_EQ(send(idle.back(), "GET /met", 8, MSG_NOSIGNAL), 8);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::string body = scrape(port, std::chrono::seconds(5));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(body.find("mapgw_test_up 1"), std::string::npos) << body;
  // A bound on liveness, not a speed goal: before, this waited ~30 s.
  EXPECT_LT(took, std::chrono::seconds(3));
  for (int fd : idle) close(fd);
}

}  // namespace
}  // namespace mapgw
