// The real charon under our supervisor (root; label sipvpn): it starts in
// a private /run with our strongswan.conf, answers our VICI client, takes
// and drops a connection, streams list-conn events, and comes back after a
// SIGKILL with the restart counted.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/bpf/netns_sandbox.h"
#include "vpn/charon/supervisor.h"

namespace mapgw::vpn {
namespace {

using std::chrono::milliseconds;

bool file_exists(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0;
}

// Runs the supervisor's events until @pred or @timeout.
template <typename P>
bool pump(CharonSupervisor& s, P pred, milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    pollfd p{s.fd(), POLLIN, 0};
    if (poll(&p, 1, 100) > 0) s.on_event();
  }
  return true;
}

vici::Message test_conn() {
  vici::Message m;
  auto& c = m.section("mapgw-test");
  c.set("version", "2");
  c.set_list("remote_addrs", {"192.0.2.99"});
  c.set("local_port", "4500");
  c.set("remote_port", "22222");
  c.set("encap", "yes");
  c.set_list("proposals", {"aes128-sha256-modp2048"});
  c.section("local").set("auth", "psk").set("id", "client@example.ne.jp");
  c.section("remote").set("auth", "psk").set("id", "server@example.ne.jp");
  auto& child = c.section("children").section("net");
  child.set("mode", "tunnel");
  child.set_list("esp_proposals", {"aes128-sha256"});
  return m;
}

TEST(Charon, SupervisedStartViciRestartStop) {
  ASSERT_EQ(geteuid(), 0u) << "charon needs root (namespaces, sockets, TUN)";
  mapgw::testing::enter_private_netns();
  char tmpl[] = "/tmp/mapgw-charon-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  CharonSettings s;
  s.run_dir = std::string(tmpl) + "/run";
  s.backend = choose_esp_backend("auto").backend;
  s.nat_port = 4500;
  int ups = 0, downs = 0;
  std::string down_why;
  CharonSupervisor::Listener l{[&](vici::Client&) { ++ups; }, [&](const std::string& why) {
                                 ++downs;
                                 down_why = why;
                               }};
  auto sup = CharonSupervisor::start(s, l);
  ASSERT_TRUE(sup.ok()) << sup.error().describe();
  CharonSupervisor& c = **sup;
  ASSERT_TRUE(pump(c, [&] { return c.up(); }, milliseconds(15000)))
      << "charon did not come up: " << c.last_exit() << " (see " << s.run_dir << "/charon.out)";
  EXPECT_EQ(ups, 1);
  // Its pid file is in our run directory, not the host's /run.
  EXPECT_TRUE(file_exists(s.run_dir + "/charon.pid"));
  std::ifstream conf(s.run_dir + "/strongswan.conf");
  std::string text((std::istreambuf_iterator<char>(conf)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("port_nat_t = 4500"), std::string::npos);
  EXPECT_EQ(text.find(" kernel-libipsec kernel-netlink") != std::string::npos, s.backend == EspBackend::kLibipsec);

  auto v = c.vici()->call("version", vici::Message(), milliseconds(3000));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->value_or("daemon", ""), "charon");
  EXPECT_EQ(v->value_or("version", "").rfind("5.", 0), 0u) << v->str();

  auto loaded = c.vici()->call("load-conn", test_conn(), milliseconds(3000));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->yes("success")) << loaded->str();
  // list-conns streams one list-conn event per connection, then answers.
  std::vector<std::string> listed;
  c.vici()->set_event_handler([&](const std::string& name, const vici::Message& m) {
    if (name == "list-conn" && m.sub("mapgw-test")) listed.push_back("mapgw-test");
  });
  ASSERT_TRUE(c.vici()->subscribe_now("list-conn", milliseconds(3000)).ok());
  ASSERT_TRUE(c.vici()->call("list-conns", vici::Message(), milliseconds(3000)).ok());
  EXPECT_EQ(listed, std::vector<std::string>{"mapgw-test"});
  vici::Message name;
  name.set("name", "mapgw-test");
  EXPECT_TRUE(c.vici()->call("unload-conn", name, milliseconds(3000))->yes("success"));
  auto unknown = c.vici()->call("no-such-command", vici::Message(), milliseconds(3000));
  EXPECT_FALSE(unknown.ok());

  // SIGKILL: noticed at once, restarted after the back-off, counted.
  const pid_t first = c.pid();
  kill(first, SIGKILL);
  ASSERT_TRUE(pump(c, [&] { return downs == 1; }, milliseconds(5000)));
  EXPECT_NE(down_why.find("signal"), std::string::npos) << down_why;
  ASSERT_TRUE(pump(c, [&] { return c.up(); }, milliseconds(15000))) << c.last_exit();
  EXPECT_EQ(c.restarts(), 1u);
  EXPECT_NE(c.pid(), first);
  EXPECT_TRUE(c.vici()->call("version", vici::Message(), milliseconds(3000)).ok());

  const pid_t second = c.pid();
  c.stop();
  EXPECT_EQ(kill(second, 0), -1);  // gone
  EXPECT_FALSE(c.up());
  std::system((std::string("rm -rf ") + tmpl).c_str());
}

}  // namespace
}  // namespace mapgw::vpn
