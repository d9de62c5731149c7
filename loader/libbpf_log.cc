#include "loader/libbpf_log.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <string>

namespace mapgw {
namespace {

std::atomic<bool> g_verbose{false};

int print_to_log(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG && !g_verbose) return 0;
  // Measured first: a message may be longer than any fixed buffer.
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), fmt, args);
  line.resize(static_cast<size_t>(n));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.rfind("libbpf: ", 0) == 0) line.erase(0, 8);
  switch (level) {
    case LIBBPF_WARN:
      spdlog::warn("libbpf: {}", line);
      break;
    case LIBBPF_INFO:
      spdlog::info("libbpf: {}", line);
      break;
    default:
      spdlog::debug("libbpf: {}", line);
  }
  return n;
}

}  // namespace

void route_libbpf_logs(bool verbose) {
  g_verbose = verbose;
  libbpf_set_print(print_to_log);
}

}  // namespace mapgw
