#include "loader/verifier_log.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>

namespace mapgw {
namespace {

constexpr size_t kStatsLogSize = 4096;
constexpr size_t kTailLines = 6;

std::atomic<bool> g_collect{false};
std::mutex g_mu;
std::vector<ProgramStats> g_stats;  // guarded by g_mu

// The whole log in a file of its own; returns its path, or "" when none
// could be written (the message then says so).
std::string write_log_file(std::string_view object, std::string_view program, std::string_view log) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/mapgw-verifier-" +
                     std::string(object) + "-" + std::string(program) + "-XXXXXX.log";
  int fd = mkstemps(path.data(), 4);
  if (fd < 0) return "";
  size_t done = 0;
  while (done < log.size()) {
    ssize_t n = write(fd, log.data() + done, log.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  return done == log.size() ? path : "";
}

bpf_program* first_unloaded(bpf_object* obj) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (bpf_program__autoload(prog) && bpf_program__fd(prog) < 0) return prog;
  }
  return nullptr;
}

}  // namespace

void collect_verifier_stats(bool on) { g_collect = on; }
bool verifier_stats_wanted() { return g_collect; }

std::vector<ProgramStats> take_verifier_stats() {
  std::lock_guard lock(g_mu);
  return std::exchange(g_stats, {});
}

bool parse_verifier_stats(std::string_view log, ProgramStats& out) {
  static const std::regex time_re(R"(verification time (\d+) usec)");
  static const std::regex insns_re(R"(processed (\d+) insns)");
  const std::string text(log);
  std::smatch m;
  bool found = false;
  if (std::regex_search(text, m, time_re)) {
    out.verify_us = std::stoull(m[1]);
    found = true;
  }
  if (std::regex_search(text, m, insns_re)) {
    out.processed_insns = static_cast<uint32_t>(std::stoul(m[1]));
    found = true;
  }
  return found;
}

std::string verifier_log_tail(std::string_view log, size_t n) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    if (end > pos) lines.push_back(log.substr(pos, end - pos));
    pos = end + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

VerifierLogs::VerifierLogs() : failure_log_(new char[kFailureLogSize]) { failure_log_[0] = '\0'; }

void VerifierLogs::fill_open_opts(bpf_object_open_opts& opts) {
  opts.kernel_log_buf = failure_log_.get();
  opts.kernel_log_size = kFailureLogSize;
  opts.kernel_log_level = 0;  // libbpf asks for level 1 only when a load fails
}

void VerifierLogs::prepare(bpf_object* obj) {
  if (!verifier_stats_wanted()) return;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog)) continue;
    stats_logs_.emplace_back(prog, std::vector<char>(kStatsLogSize));
  }
  for (auto& [p, buf] : stats_logs_) {
    bpf_program__set_log_level(p, 4 /* BPF_LOG_STATS */);
    bpf_program__set_log_buf(p, buf.data(), buf.size());
  }
}

void VerifierLogs::record_stats(std::string_view object_name) {
  std::vector<ProgramStats> found;
  for (auto& [p, buf] : stats_logs_) {
    ProgramStats s{.object = std::string(object_name), .program = bpf_program__name(p)};
    parse_verifier_stats(std::string_view(buf.data(), strnlen(buf.data(), buf.size())), s);
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0) {
      s.xlated_insns = info.xlated_prog_len / sizeof(bpf_insn);
    }
    found.push_back(std::move(s));
  }
  std::lock_guard lock(g_mu);
  g_stats.insert(g_stats.end(), found.begin(), found.end());
}

Error VerifierLogs::rejection(bpf_object* obj, std::string_view object_name, int err) const {
  const std::string what = "loading BPF object " + std::string(object_name);
  bpf_program* prog = first_unloaded(obj);
  const std::string_view log(failure_log_.get(), strnlen(failure_log_.get(), kFailureLogSize));
  if (!prog || log.empty()) return make_error(what, err);
  const std::string name = bpf_program__name(prog);
  const std::string path = write_log_file(object_name, name, log);
  // The errno inside the message: appended after the path it would read as
  // the file's own error.
  return make_error("the kernel's verifier rejected BPF program " + name + " (" + what + ": " +
                    std::strerror(err) + "): " + verifier_log_tail(log, kTailLines) +
                    (path.empty() ? " (the full log could not be written to a file)"
                                  : "; full log: " + path));
}

}  // namespace mapgw
