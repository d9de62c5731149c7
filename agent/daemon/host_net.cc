#include "agent/daemon/host_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

extern char** environ;

namespace mapgw {
namespace {

// Runs argv, optionally feeding @input on stdin; returns exit status and
// whatever it wrote to stderr.
Status spawn(const std::vector<std::string>& argv, const std::string* input) {
  int err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return make_error("pipe", errno);
  if (input && pipe2(in_pipe, O_CLOEXEC) != 0) return make_error("pipe", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (input) posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(err_pipe[1]);
  if (input) close(in_pipe[0]);
  if (rc != 0) {
    close(err_pipe[0]);
    if (input) close(in_pipe[1]);
    return make_error("cannot run " + argv[0], rc);
  }
  if (input) {
    const char* p = input->data();
    size_t left = input->size();
    while (left > 0) {
      ssize_t n = write(in_pipe[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(in_pipe[1]);
  }
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = read(err_pipe[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<size_t>(n));
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  return make_error("`" + cmd + "` failed: " + (err.empty() ? "no message" : err));
}

std::string sysctl_path(const std::string& name) {
  std::string p = name;
  std::replace(p.begin(), p.end(), '.', '/');
  return "/proc/sys/" + p;
}

}  // namespace

Status run_ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, nullptr);
}

Status run_ip_batch(const std::vector<std::string>& lines) {
  if (lines.empty()) return Status::Ok();
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  return spawn({"ip", "-batch", "-"}, &input);
}

Result<std::string> read_sysctl(const std::string& name) {
  std::ifstream f(sysctl_path(name));
  std::string v;
  if (!(f >> v)) return make_error("cannot read sysctl " + name, errno);
  return v;
}

Status write_sysctl(const std::string& name, const std::string& value) {
  std::ofstream f(sysctl_path(name));
  f << value;
  f.flush();
  if (!f) return make_error("cannot set sysctl " + name + "=" + value, errno);
  return Status::Ok();
}

bool interface_exists(const std::string& ifname) { return if_nametoindex(ifname.c_str()) != 0; }

Result<unsigned> interface_index(const std::string& ifname) {
  unsigned i = if_nametoindex(ifname.c_str());
  if (i == 0) return make_error("interface " + ifname + " does not exist", errno);
  return i;
}

Result<unsigned> interface_mtu(const std::string& ifname) {
  std::ifstream f("/sys/class/net/" + ifname + "/mtu");
  unsigned mtu = 0;
  if (!(f >> mtu)) return make_error("cannot read the MTU of " + ifname, errno);
  return mtu;
}

std::optional<Ipv4Addr> first_ipv4_address(const std::string& ifname) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<Ipv4Addr> out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && ifname == a->ifa_name) {
      out = Ipv4Addr{ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr)};
      break;
    }
  }
  freeifaddrs(list);
  return out;
}

Status enable_forwarding() {
  // Written only when off: rewriting forwarding resets per-device settings.
  for (const char* s : {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"}) {
    auto v = read_sysctl(s);
    if (v && *v == "1") continue;
    spdlog::info("enabling {}", s);
    if (auto st = write_sysctl(s, "1"); !st) return st;
  }
  return Status::Ok();
}

Status refuse_source_routes() {
  // The data plane leaves IPv4 options to the kernel (punt_ipv4_options):
  // the kernel must then drop source-routed packets, as Linux does unless
  // told otherwise (the switch is "all" AND the device's).
  const char* s = "net.ipv4.conf.all.accept_source_route";
  if (auto v = read_sysctl(s); v && *v == "0") return Status::Ok();
  spdlog::warn("{} was on; a gateway must not follow source routes: setting it to 0", s);
  return write_sysctl(s, "0");
}

Status relax_rp_filter(const std::string& ifname) {
  if (auto all = read_sysctl("net.ipv4.conf.all.rp_filter"); all && *all == "1") {
    spdlog::warn("net.ipv4.conf.all.rp_filter=1 (strict) would drop decapsulated packets; "
                 "setting it to 2 (loose)");
    if (auto st = write_sysctl("net.ipv4.conf.all.rp_filter", "2"); !st) return st;
  }
  return write_sysctl("net.ipv4.conf." + ifname + ".rp_filter", "0");
}

Status ensure_slow_path(const std::string& name, unsigned mtu, bool* created) {
  *created = false;
  const std::string peer = name + "-s";
  if (!interface_exists(name)) {
    if (auto st = run_ip({"link", "add", name, "type", "veth", "peer", "name", peer}); !st) return st;
    *created = true;
  }
  const std::string m = std::to_string(mtu);
  if (auto st = run_ip_batch({"link set " + name + " mtu " + m + " arp off up",
                              "link set " + peer + " mtu " + m + " up"});
      !st) {
    return st;
  }
  if (auto st = write_sysctl("net.ipv6.conf." + name + ".disable_ipv6", "1"); !st) {
    spdlog::warn("{} (harmless: only router solicitations on it)", st.error().describe());
  }
  return Status::Ok();
}

Status sync_ipv4_routes(const std::set<std::string>& want, const std::set<std::string>& have,
                        const std::string& dev) {
  std::vector<std::string> lines;
  for (const auto& p : want) {
    lines.push_back("route replace " + p + " dev " + dev + " proto " + kRouteProto);
  }
  for (const auto& p : have) {
    if (!want.count(p)) lines.push_back("route del " + p + " proto " + kRouteProto);
  }
  return run_ip_batch(lines);
}

}  // namespace mapgw
