// What the kernel's verifier says about our programs, in two forms:
//
// - A rejection, as one message: the program's name, the verifier's last
//   lines, and the whole log in a file whose path the message gives (a
//   rejected program's log runs to tens of kilobytes; a log line cannot
//   carry it). Skeleton::load() uses it on every load.
// - Per-program statistics (instructions processed, verification time),
//   collected when asked for: `mapgw --check-kernel` and the kernel-matrix
//   tests report them. Off by default: the numbers cost a log per program.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"

namespace mapgw {

struct ProgramStats {
  std::string object;            // the BPF object ("mapgw_ce")
  std::string program;           // the program's name
  uint32_t processed_insns = 0;  // instructions the verifier walked
  uint32_t xlated_insns = 0;     // instructions the program has after load
  uint64_t verify_us = 0;        // the verifier's own time
};

// Statistics collection for every later load in this process.
void collect_verifier_stats(bool on);
bool verifier_stats_wanted();
// Statistics of every program loaded since the last call, then forgotten.
std::vector<ProgramStats> take_verifier_stats();

// The parts of a BPF_LOG_STATS log ("verification time N usec",
// "processed N insns ...") into @out; false when neither is there.
bool parse_verifier_stats(std::string_view log, ProgramStats& out);

// The last @n non-empty lines of a verifier log, joined with " | ".
std::string verifier_log_tail(std::string_view log, size_t n);

// The logs one object load needs: an object-wide buffer the kernel fills
// with the failing program's log (libbpf retries a failed load at log level
// 1 into it), and, when statistics are wanted, one small buffer per program
// at BPF_LOG_STATS. Create after open, before load; read after load.
class VerifierLogs {
 public:
  static constexpr size_t kFailureLogSize = 16u << 20;  // 6.1 answers ENOSPC on a short buffer

  // The object-wide buffer goes into the open options.
  VerifierLogs();
  void fill_open_opts(bpf_object_open_opts& opts);
  // Per-program statistics buffers, if wanted.
  void prepare(bpf_object* obj);
  // After a successful load: statistics into the process-wide list.
  void record_stats(std::string_view object_name);
  // After a failed load: the error to return.
  Error rejection(bpf_object* obj, std::string_view object_name, int err) const;

 private:
  std::unique_ptr<char[]> failure_log_;
  std::vector<std::pair<bpf_program*, std::vector<char>>> stats_logs_;
};

}  // namespace mapgw
