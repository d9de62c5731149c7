// RAII over a bpftool-generated libbpf skeleton. Opening and loading are
// separate steps so the caller can set `const volatile` rodata tunables in
// between (skel->rodata->...), as STYLE.md asks. Errors carry errno and the
// program name; the verifier log reaches the log through route_libbpf_logs().
//
// Usage:
//   MAPGW_SKELETON_TRAITS(mapgw_classify);
//   auto skel = Skeleton<mapgw_classify_traits>::open();
//   ... skel->get()->rodata->x = 1; ...
//   if (auto st = skel->load(); !st) ...
#pragma once

#include <bpf/libbpf.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "agent/common/result.h"

#define MAPGW_SKELETON_TRAITS(name)                                                  \
  struct name##_traits {                                                             \
    using type = struct name;                                                        \
    static constexpr const char* kName = #name;                                      \
    static type* open(const struct bpf_object_open_opts* o) { return name##__open_opts(o); } \
    static int load(type* s) { return name##__load(s); }                             \
    static void destroy(type* s) { name##__destroy(s); }                             \
  }

namespace mapgw {

template <typename Traits>
class Skeleton {
 public:
  using Type = typename Traits::type;

  static Result<Skeleton> open() {
    errno = 0;
    Type* s = Traits::open(nullptr);
    if (!s) {
      return make_error(std::string("opening BPF object ") + Traits::kName, errno ? errno : EINVAL);
    }
    return Skeleton(s);
  }

  // With MAPGW_VERIFIER_STATS set in the environment, logs each program's
  // verifier statistics (instructions processed, states, time) after load.
  Status load() {
    const bool stats = std::getenv("MAPGW_VERIFIER_STATS") != nullptr;
    std::vector<std::pair<bpf_program*, std::vector<char>>> logs;
    if (stats) {
      bpf_program* prog;
      bpf_object__for_each_program(prog, skel_->obj) logs.emplace_back(prog, std::vector<char>(4096));
      for (auto& [p, buf] : logs) {
        bpf_program__set_log_level(p, 4 /* BPF_LOG_STATS */);
        bpf_program__set_log_buf(p, buf.data(), buf.size());
      }
    }
    int err = Traits::load(skel_);
    for (auto& [p, buf] : logs) {
      std::string text(buf.data());
      for (auto pos = text.find('\n'); pos != std::string::npos; pos = text.find('\n')) text[pos] = ' ';
      spdlog::info("verifier {}: {}", bpf_program__name(p), text);
    }
    if (err) {
      return make_error(std::string("loading BPF object ") + Traits::kName +
                            " (the verifier log, if any, is in the log above)",
                        -err);
    }
    loaded_ = true;
    return Status::Ok();
  }

  Type* get() const { return skel_; }
  Type* operator->() const { return skel_; }
  bool loaded() const { return loaded_; }

  Skeleton(Skeleton&& o) noexcept : skel_(std::exchange(o.skel_, nullptr)), loaded_(o.loaded_) {}
  Skeleton& operator=(Skeleton&& o) noexcept {
    if (this != &o) {
      reset();
      skel_ = std::exchange(o.skel_, nullptr);
      loaded_ = o.loaded_;
    }
    return *this;
  }
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;
  ~Skeleton() { reset(); }

 private:
  explicit Skeleton(Type* s) : skel_(s) {}
  void reset() {
    if (skel_) Traits::destroy(skel_);
    skel_ = nullptr;
  }

  Type* skel_ = nullptr;
  bool loaded_ = false;
};

}  // namespace mapgw
