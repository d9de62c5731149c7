// A TC (clsact) BPF filter on one interface and direction. The clsact qdisc
// is created if missing and left in place on detach (other filters may use
// it); only our filter is removed.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "loader/result.h"

namespace mapgw {

enum class TcDirection { kIngress, kEgress };

class TcFilter {
 public:
  static Result<TcFilter> attach(int prog_fd, const std::string& ifname, TcDirection dir);

  Status replace_program(int new_prog_fd);
  // Keep the filter attached after this object is gone (lossless restart:
  // the next run replaces it in place).
  void release() { attached_ = false; }

  TcFilter(TcFilter&& o) noexcept;
  TcFilter& operator=(TcFilter&& o) noexcept;
  TcFilter(const TcFilter&) = delete;
  TcFilter& operator=(const TcFilter&) = delete;
  ~TcFilter();
  void detach();

 private:
  TcFilter() = default;

  int ifindex_ = 0;
  TcDirection dir_ = TcDirection::kIngress;
  std::string ifname_;
  bool attached_ = false;
};

}  // namespace mapgw
