// RAII over a bpftool-generated libbpf skeleton. Opening and loading are
// separate steps so the caller can set `const volatile` rodata tunables in
// between (skel->rodata->...), as STYLE.md asks. Errors carry errno and the
// program name; a verifier rejection is reported as one (verifier_log.h).
//
// Usage:
//   MAPGW_SKELETON_TRAITS(mapgw_classify);
//   auto skel = Skeleton<mapgw_classify_traits>::open();
//   ... skel->get()->rodata->x = 1; ...
//   if (auto st = skel->load(); !st) ...
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "loader/result.h"
#include "loader/verifier_log.h"

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
    auto logs = std::make_unique<VerifierLogs>();
    LIBBPF_OPTS(bpf_object_open_opts, opts);
    logs->fill_open_opts(opts);
    errno = 0;
    Type* s = Traits::open(&opts);
    if (!s) {
      return make_error(std::string("opening BPF object ") + Traits::kName, errno ? errno : EINVAL);
    }
    return Skeleton(s, std::move(logs));
  }

  // A rejection comes back as one error naming the program, with the
  // verifier's last lines and the path of a file holding its whole log.
  // With collect_verifier_stats(true), each program's statistics are kept
  // for take_verifier_stats().
  Status load() {
    logs_->prepare(skel_->obj);
    if (int err = Traits::load(skel_)) return logs_->rejection(skel_->obj, Traits::kName, -err);
    logs_->record_stats(Traits::kName);
    logs_.reset();  // 16 MiB of address space, no longer needed
    loaded_ = true;
    return Status::Ok();
  }

  Type* get() const { return skel_; }
  Type* operator->() const { return skel_; }
  bool loaded() const { return loaded_; }

  Skeleton(Skeleton&& o) noexcept
      : skel_(std::exchange(o.skel_, nullptr)), logs_(std::move(o.logs_)), loaded_(o.loaded_) {}
  Skeleton& operator=(Skeleton&& o) noexcept {
    if (this != &o) {
      reset();
      skel_ = std::exchange(o.skel_, nullptr);
      logs_ = std::move(o.logs_);
      loaded_ = o.loaded_;
    }
    return *this;
  }
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;
  ~Skeleton() { reset(); }

 private:
  Skeleton(Type* s, std::unique_ptr<VerifierLogs> logs) : skel_(s), logs_(std::move(logs)) {}
  void reset() {
    if (skel_) Traits::destroy(skel_);
    skel_ = nullptr;
  }

  Type* skel_ = nullptr;
  std::unique_ptr<VerifierLogs> logs_;  // until loaded: the buffers the kernel writes into
  bool loaded_ = false;
};

}  // namespace mapgw
