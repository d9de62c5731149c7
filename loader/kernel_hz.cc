#include "loader/kernel_hz.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace mapgw {
namespace {

constexpr std::string_view kHzKey = "CONFIG_HZ=";

std::optional<uint32_t> hz_from_line(std::string_view line) {
  if (line.substr(0, kHzKey.size()) != kHzKey) return std::nullopt;
  const std::string digits(line.substr(kHzKey.size()));
  char* end = nullptr;
  const unsigned long v = std::strtoul(digits.c_str(), &end, 10);
  if (end == digits.c_str() || v == 0 || v > 10000) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::optional<uint32_t> hz_from_boot_config() {
  utsname u{};
  if (uname(&u) != 0) return std::nullopt;
  std::ifstream in(std::string("/boot/config-") + u.release);
  for (std::string line; std::getline(in, line);) {
    if (auto hz = hz_from_line(line)) return hz;
  }
  return std::nullopt;
}

std::optional<uint32_t> hz_from_proc_config() {
  gzFile f = gzopen("/proc/config.gz", "rb");
  if (!f) return std::nullopt;
  std::optional<uint32_t> hz;
  std::array<char, 512> buf{};
  while (!hz && gzgets(f, buf.data(), static_cast<int>(buf.size()))) {
    std::string_view line(buf.data());
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    hz = hz_from_line(line);
  }
  gzclose(f);
  return hz;
}

// A two-instruction program returning the low 32 bits of jiffies, run with
// BPF_PROG_TEST_RUN: the same clock the data plane ages its caches by.
class JiffiesReader {
 public:
  JiffiesReader() {
    const bpf_insn prog[] = {
        {.code = BPF_JMP | BPF_CALL, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = BPF_FUNC_jiffies64},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    fd_ = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "mapgw_jiffies", "GPL", prog, 2, nullptr);
  }
  ~JiffiesReader() {
    if (fd_ >= 0) close(fd_);
  }
  JiffiesReader(const JiffiesReader&) = delete;
  JiffiesReader& operator=(const JiffiesReader&) = delete;

  int error() const { return fd_ >= 0 ? 0 : errno; }
  std::optional<uint32_t> read() const {
    std::array<uint8_t, 64> pkt{};  // a socket filter's test run wants an Ethernet frame
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(), .data_size_in = pkt.size(),
                .repeat = 1);
    if (bpf_prog_test_run_opts(fd_, &opts) != 0) return std::nullopt;
    return opts.retval;
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::optional<uint32_t> kernel_config_hz() {
  if (auto hz = hz_from_boot_config()) return hz;
  return hz_from_proc_config();
}

Result<uint32_t> measure_kernel_hz() {
  JiffiesReader reader;
  if (int err = reader.error()) return make_error("loading the jiffies probe", err);
  constexpr auto kWindow = std::chrono::milliseconds(120);
  const auto t0 = std::chrono::steady_clock::now();
  const auto j0 = reader.read();
  std::this_thread::sleep_for(kWindow);
  const auto j1 = reader.read();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!j0 || !j1) return make_error("running the jiffies probe", errno ? errno : EIO);
  return nearest_kernel_hz((*j1 - *j0) / secs);
}

uint32_t nearest_kernel_hz(double ticks_per_second) {
  // The values Kconfig offers (kernel/Kconfig.hz).
  constexpr std::array<uint32_t, 4> kChoices{100, 250, 300, 1000};
  uint32_t best = kChoices[0];
  for (uint32_t c : kChoices) {
    if (std::abs(ticks_per_second - c) < std::abs(ticks_per_second - best)) best = c;
  }
  return best;
}

Result<KernelHz> kernel_hz() {
  static const Result<KernelHz> cached = []() -> Result<KernelHz> {
    if (auto hz = kernel_config_hz()) return KernelHz{*hz, "kernel config"};
    auto hz = measure_kernel_hz();
    if (!hz) return hz.error();
    return KernelHz{*hz, "measured"};
  }();
  return cached;
}

}  // namespace mapgw
