#include "loader/kernel_features.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>

namespace mapgw {
namespace {

struct ProgTypeNeed {
  bpf_prog_type type;
  const char* name;
  const char* since;
};
struct MapTypeNeed {
  bpf_map_type type;
  const char* name;
  const char* since;
};
struct HelperNeed {
  bpf_prog_type prog;
  bpf_func_id helper;
  const char* name;
  const char* since;
};

// What bpf/ uses: the program and map types of its objects and the helpers
// newer than the types themselves. (The tp_btf counters are not probed:
// libbpf cannot probe tracing programs without a BTF target, and they came
// in 5.5, long before bpf_xdp_get_buff_len().)
constexpr std::array kProgTypes{
    ProgTypeNeed{BPF_PROG_TYPE_XDP, "XDP programs", "4.8"},
    ProgTypeNeed{BPF_PROG_TYPE_SCHED_CLS, "TC programs", "4.1"},
};
constexpr std::array kMapTypes{
    MapTypeNeed{BPF_MAP_TYPE_DEVMAP_HASH, "BPF_MAP_TYPE_DEVMAP_HASH", "5.4"},
    MapTypeNeed{BPF_MAP_TYPE_CPUMAP, "BPF_MAP_TYPE_CPUMAP", "4.15"},
    MapTypeNeed{BPF_MAP_TYPE_RINGBUF, "BPF_MAP_TYPE_RINGBUF", "5.8"},
    MapTypeNeed{BPF_MAP_TYPE_LRU_HASH, "BPF_MAP_TYPE_LRU_HASH", "4.10"},
};
constexpr std::array kHelpers{
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_fib_lookup, "bpf_fib_lookup()", "4.18"},
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_jiffies64, "bpf_jiffies64()", "5.5"},
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve()", "5.8"},
    HelperNeed{BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_neigh, "bpf_redirect_neigh()", "5.10"},
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns()", "5.11"},
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_loop, "bpf_loop()", "5.17"},
    HelperNeed{BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, "bpf_xdp_get_buff_len()", "5.18"},
};

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// XDP: bpf_fib_lookup(ctx, &params /* zeroed, family 0 */, 64, SKIP_NEIGH);
// returns 1 when the kernel refused the flag (-EINVAL), else 2.
Result<bool> probe_fib_skip_neigh() {
  constexpr int kParams = 64;
  const bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -64, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -56, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -48, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -40, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -32, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -24, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -16, 0),
      insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_0, -8, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -kParams),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, kParams),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_FIB_LOOKUP_SKIP_NEIGH),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_fib_lookup),
      insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, -EINVAL),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 2),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "mapgw_fib_probe", "GPL", prog,
                               sizeof(prog) / sizeof(prog[0]), nullptr);
  if (fd < 0) return make_error("loading the bpf_fib_lookup probe", errno);
  std::array<uint8_t, 64> frame{};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = frame.size(),
              .repeat = 1);
  const int rc = bpf_prog_test_run_opts(fd, &opts);
  const int err = errno;
  close(fd);
  if (rc != 0) return make_error("running the bpf_fib_lookup probe", err);
  return opts.retval == 2;
}

std::atomic<bool> g_pretend_old{false};

}  // namespace

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? u.release : "unknown";
}

std::vector<KernelRequirement> missing_kernel_requirements() {
  std::vector<KernelRequirement> missing;
  for (const auto& p : kProgTypes) {
    if (libbpf_probe_bpf_prog_type(p.type, nullptr) != 1) missing.push_back({p.name, p.since});
  }
  for (const auto& m : kMapTypes) {
    if (libbpf_probe_bpf_map_type(m.type, nullptr) != 1) missing.push_back({m.name, m.since});
  }
  for (const auto& h : kHelpers) {
    if (libbpf_probe_bpf_helper(h.prog, h.helper, nullptr) != 1) missing.push_back({h.name, h.since});
  }
  return missing;
}

std::string describe_missing(const std::string& release, const std::vector<KernelRequirement>& missing) {
  std::string out = "this kernel (" + release + ") lacks what mapgw needs:";
  for (size_t i = 0; i < missing.size(); ++i) {
    out += (i ? ", " : " ") + missing[i].name + " (Linux " + missing[i].since + ")";
  }
  return out + "; the oldest kernel mapgw supports is 6.1 (Debian 12)";
}

void pretend_old_kernel(bool on) { g_pretend_old = on; }
bool kernel_pretends_old() { return g_pretend_old; }

Result<KernelAdaptations> kernel_adaptations() {
  if (g_pretend_old) return KernelAdaptations{};
  static const Result<KernelAdaptations> cached = []() -> Result<KernelAdaptations> {
    auto skip = probe_fib_skip_neigh();
    if (!skip) return skip.error();
    return KernelAdaptations{.fib_skip_neigh = *skip};
  }();
  return cached;
}

}  // namespace mapgw
