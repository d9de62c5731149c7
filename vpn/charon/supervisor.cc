#include "vpn/charon/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace mapgw::vpn {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The view charon has of its run directory (bind-mounted over /run).
constexpr const char* kInsideRun = "/var/run";
constexpr const char* kHostResolvconf = "/sbin/resolvconf";
constexpr const char* kPluginDir = "/usr/lib/ipsec/plugins";

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

std::string strongswan_conf(const CharonSettings& s) {
  // Only what SIP-VPN and L2TP/IPsec use; nothing that edits the host's
  // resolver: resolve hands the DNS servers a VPN server sent to our
  // record-dns script (charon's routes to the negotiated networks and its
  // virtual IPs are what a client needs; no updown scripts).
  // kernel-libipsec goes before kernel-netlink: the first IPsec interface
  // registered is the one charon uses (netlink stays for routes and
  // addresses); the other way round, SAs go to a kernel without ESP
  // ("unable to add SAD entry: Protocol not supported").
  // openssl (AES-NI, and AES-GCM with gcm) where Debian's
  // libstrongswan-standard-plugins is installed: libipsec's ESP runs in
  // charon, several times faster than the portable aes plugin.
  std::string plugins;
  for (const char* fast : {"openssl", "gcm"}) {
    if (access((std::string(kPluginDir) + "/libstrongswan-" + fast + ".so").c_str(), R_OK) == 0) {
      plugins += std::string(fast) + " ";
    }
  }
  plugins +=
      "random nonce aes sha1 sha2 md5 hmac gmp curve25519 x509 pem pkcs1 pkcs8 pubkey "
      "revocation constraints kdf eap-identity eap-md5 resolve vici socket-default";
  plugins += s.backend == EspBackend::kLibipsec ? " kernel-libipsec kernel-netlink" : " kernel-netlink";
  std::string c;
  c += "# Written by mapgw for the charon it supervises; do not edit.\n";
  c += "charon {\n";
  c += "  load = " + plugins + "\n";
  c += "  port = " + std::to_string(s.ike_port) + "\n";
  c += "  port_nat_t = " + std::to_string(s.nat_port) + "\n";
  c += "  install_virtual_ip = yes\n";
  c += "  retransmit_tries = 4\n";
  c += "  plugins {\n";
  c += "    vici {\n      socket = unix://" + std::string(kInsideRun) + "/charon.vici\n    }\n";
  if (s.tunnel_to_ike_peer && s.backend == EspBackend::kLibipsec) {
    // The route to the peer goes into libipsec's TUN; IKE packets, marked
    // by socket-default, skip table 220 (kernel-netlink's rule matches
    // only unmarked packets).
    c += "    kernel-libipsec {\n      allow_peer_ts = yes\n    }\n";
    c += "    socket-default {\n      fwmark = " + std::string(kIkeBypassMark) + "\n    }\n";
    c += "    kernel-netlink {\n      fwmark = !" + std::string(kIkeBypassMark) + "\n    }\n";
  }
  // DNS servers received go to a file of ours, or to our resolvconf
  // stand-in (where the host has resolvconf, 5.9.8 always calls
  // /sbin/resolvconf: the supervisor mounts the stand-in over it).
  c += "    resolve {\n      file = " + std::string(kInsideRun) + "/dns\n";
  c += "      resolvconf {\n        path = " + std::string(kInsideRun) + "/record-dns\n      }\n    }\n";
  c += "  }\n";
  c += "  filelog {\n    charon {\n      path = " + std::string(kInsideRun) + "/charon.log\n";
  c += "      time_format = %F %T\n      default = " + std::to_string(s.log_level) + "\n";
  c += "      ike = 1\n      cfg = 1\n    }\n  }\n";
  c += "  syslog {\n    daemon {\n      default = -1\n    }\n  }\n";
  c += "}\n";
  return c;
}

const char* CharonSupervisor::state_name() const {
  switch (state_) {
    case State::kStarting: return "starting";
    case State::kUp: return "up";
    case State::kBackoff: return "restart_wait";
    case State::kStopped: return "stopped";
  }
  return "?";
}

Result<std::unique_ptr<CharonSupervisor>> CharonSupervisor::start(CharonSettings s, Listener l) {
  if (access(s.charon.c_str(), X_OK) != 0) {
    return make_error("charon not found at " + s.charon + " (Debian package strongswan-charon)");
  }
  if (mkdir(s.run_dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error("creating " + s.run_dir, errno);
  chmod(s.run_dir.c_str(), 0700);
  {
    std::ofstream f(s.run_dir + "/strongswan.conf");
    f << strongswan_conf(s);
    if (!f) return make_error("writing " + s.run_dir + "/strongswan.conf");
  }
  {
    // charon's resolve plugin runs "resolvconf -a <name>" with "nameserver
    // <ip>" lines on stdin, "-d <name>" to remove them (5.9.8: one name per
    // server, newer: one for all). This script stands in for resolvconf.
    const std::string path = s.run_dir + "/record-dns";
    const std::string dir = std::string(kInsideRun) + "/dns.d";
    std::ofstream f(path);
    f << "#!/bin/sh\n# Written by mapgw: keeps the DNS servers VPN servers sent; the host's resolver is untouched.\n"
      << "mkdir -p " << dir << "\n"
      << "case \"$1\" in\n  -a) cat > \"" << dir << "/$2\" ;;\n  -d) rm -f \"" << dir << "/$2\" ;;\nesac\n";
    if (!f) return make_error("writing " + path);
    f.close();
    chmod(path.c_str(), 0700);
    std::error_code ec;
    std::filesystem::remove_all(s.run_dir + "/dns.d", ec);  // a charon gone had them
    std::filesystem::remove(s.run_dir + "/dns", ec);
  }
  std::unique_ptr<CharonSupervisor> sup(new CharonSupervisor(std::move(s), std::move(l)));
  sup->ep_ = epoll_create1(EPOLL_CLOEXEC);
  sup->timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (sup->ep_ < 0 || sup->timer_ < 0) return make_error("charon supervisor: epoll/timerfd", errno);
  sup->watch(sup->timer_, true);
  if (Status st = sup->spawn(); !st) return st.error();
  return sup;
}

CharonSupervisor::~CharonSupervisor() {
  stop();
  if (timer_ >= 0) close(timer_);
  if (ep_ >= 0) close(ep_);
}

void CharonSupervisor::watch(int fd, bool on) {
  if (fd < 0) return;
  if (!on) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
}

void CharonSupervisor::arm(milliseconds in) {
  itimerspec its{};
  const auto ns = std::max<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(in).count(), 1000000);
  its.it_value.tv_sec = ns / 1000000000;
  its.it_value.tv_nsec = ns % 1000000000;
  timerfd_settime(timer_, 0, &its, nullptr);
}

Status CharonSupervisor::spawn() {
  const std::string out_path = s_.run_dir + "/charon.out";
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) return make_error("opening " + out_path, errno);
  unlink((s_.run_dir + "/charon.vici").c_str());  // a stale socket would look ready
  const pid_t pid = fork();
  if (pid < 0) {
    close(out);
    return make_error("fork for charon", errno);
  }
  if (pid == 0) {
    // The child: its own mount namespace, our run directory as its /run,
    // nothing inherited but stdio.
    dup2(out, 1);
    dup2(out, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount(s_.run_dir.c_str(), kInsideRun, nullptr, MS_BIND, nullptr) != 0) {
      dprintf(2, "mapgw: charon's private /run: %s\n", strerror(errno));
      _exit(126);
    }
    // Never the host's resolver: a resolvconf there is replaced, for
    // charon alone, by the script that records what the server sent.
    struct stat st {};
    if (stat(kHostResolvconf, &st) == 0 &&
        mount((s_.run_dir + "/record-dns").c_str(), kHostResolvconf, nullptr, MS_BIND, nullptr) != 0) {
      dprintf(2, "mapgw: hiding %s from charon: %s\n", kHostResolvconf, strerror(errno));
      _exit(126);
    }
    syscall(SYS_close_range, 3, ~0U, 0);
    setsid();
    const std::string conf = std::string("STRONGSWAN_CONF=") + kInsideRun + "/strongswan.conf";
    char* const argv[] = {const_cast<char*>(s_.charon.c_str()), nullptr};
    char* const envp[] = {const_cast<char*>(conf.c_str()), const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
                          nullptr};
    execve(s_.charon.c_str(), argv, envp);
    dprintf(2, "mapgw: exec %s: %s\n", s_.charon.c_str(), strerror(errno));
    _exit(127);
  }
  close(out);
  pid_ = pid;
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid_ = -1;
    return make_error("pidfd_open for charon (Linux 5.3 or later)", errno);
  }
  watch(pidfd_, true);
  state_ = State::kStarting;
  spawned_at_ = Clock::now();
  arm(milliseconds(100));
  return Status::Ok();
}

void CharonSupervisor::try_connect() {
  auto c = vici::Client::connect(s_.run_dir + "/charon.vici");
  if (c) {
    auto v = (*c)->call("version", vici::Message(), milliseconds(2000));
    if (v) {
      vici_ = std::move(*c);
      watch(vici_->fd(), true);
      state_ = State::kUp;
      up_at_ = Clock::now();
      if (l_.up) l_.up(*vici_);
      return;
    }
  }
  if (Clock::now() - spawned_at_ > s_.ready_timeout) {
    last_exit_ = "VICI socket did not answer within " + std::to_string(s_.ready_timeout.count()) + " ms";
    kill(pid_, SIGKILL);  // the pidfd reports the exit; reap() restarts
    return;
  }
  arm(milliseconds(200));
}

void CharonSupervisor::reap(const std::string& why) {
  int status = 0;
  if (pid_ > 0) waitpid(pid_, &status, 0);
  watch(pidfd_, false);
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
  pid_ = -1;
  if (vici_) watch(vici_->fd(), false);
  vici_.reset();
  const bool was_up = state_ == State::kUp;
  last_exit_ = why.empty() ? "charon " + describe_status(status) : why;
  if (state_ == State::kStopped) return;
  if (was_up && Clock::now() - up_at_ > std::chrono::minutes(1)) backoff_ = milliseconds(0);
  backoff_ = backoff_.count() == 0 ? milliseconds(1000) : std::min<milliseconds>(backoff_ * 2, kBackoffMax);
  state_ = State::kBackoff;
  ++restarts_;
  if (l_.down) l_.down(last_exit_);
  arm(backoff_);
}

void CharonSupervisor::on_event() {
  epoll_event got[4];
  const int n = epoll_wait(ep_, got, 4, 0);
  for (int i = 0; i < n; ++i) {
    const int fd = got[i].data.fd;
    if (fd == pidfd_) {
      reap("");
      continue;
    }
    if (vici_ && fd == vici_->fd()) {
      if (!vici_->on_readable()) {
        // charon closed VICI without exiting yet: the exit follows, or we end it.
        watch(fd, false);
        last_exit_ = "VICI connection lost";
        if (pid_ > 0) kill(pid_, SIGTERM);
      }
      continue;
    }
    if (fd == timer_) {
      uint64_t x;
      (void)!read(timer_, &x, sizeof x);
      if (state_ == State::kStarting) {
        try_connect();
      } else if (state_ == State::kBackoff) {
        if (Status st = spawn(); !st) {
          last_exit_ = st.error().describe();
          arm(backoff_);
        }
      }
    }
  }
  if (vici_ && vici_->wants_write()) vici_->flush();
}

void CharonSupervisor::stop() {
  state_ = State::kStopped;
  if (vici_) watch(vici_->fd(), false);
  vici_.reset();
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    usleep(100000);
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  watch(pidfd_, false);
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
}

std::vector<std::string> CharonSupervisor::received_dns() const {
  std::vector<std::string> files{s_.run_dir + "/dns"};
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(s_.run_dir + "/dns.d", ec)) files.push_back(e.path());
  std::set<std::string> out;
  for (const auto& path : files) {
    std::ifstream f(path);
    std::string word, addr;
    while (f >> word) {
      if (word == "nameserver" && f >> addr) out.insert(addr);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace mapgw::vpn
