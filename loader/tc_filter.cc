#include "loader/tc_filter.h"

#include <net/if.h>

#include <cerrno>
#include <utility>

namespace mapgw {
namespace {

// One well-known handle/priority so a restart finds and replaces its own filter.
constexpr uint32_t kHandle = 0x6d67;  // "mg"
constexpr uint32_t kPriority = 0x6d67;

bpf_tc_attach_point to_point(TcDirection d) {
  return d == TcDirection::kIngress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

}  // namespace

Result<TcFilter> TcFilter::attach(int prog_fd, const std::string& ifname, TcDirection dir) {
  TcFilter f;
  f.ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (f.ifindex_ == 0) return make_error("interface " + ifname + " not found", errno);
  f.dir_ = dir;
  f.ifname_ = ifname;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = f.ifindex_, .attach_point = to_point(dir));
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) return make_error("creating clsact qdisc on " + ifname, -err);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE,
              .handle = kHandle, .priority = kPriority);
  err = bpf_tc_attach(&hook, &opts);
  if (err) return make_error("attaching TC program to " + ifname, -err);
  f.attached_ = true;
  return f;
}

Status TcFilter::replace_program(int new_prog_fd) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = to_point(dir_));
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = new_prog_fd, .flags = BPF_TC_F_REPLACE,
              .handle = kHandle, .priority = kPriority);
  int err = bpf_tc_attach(&hook, &opts);
  if (err) return make_error("replacing TC program on " + ifname_, -err);
  return Status::Ok();
}

void TcFilter::detach() {
  if (!attached_) return;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex_, .attach_point = to_point(dir_));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kHandle, .priority = kPriority);
  bpf_tc_detach(&hook, &opts);  // the interface may be gone already: nothing to do then
  attached_ = false;
}

TcFilter::TcFilter(TcFilter&& o) noexcept
    : ifindex_(o.ifindex_), dir_(o.dir_), ifname_(std::move(o.ifname_)),
      attached_(std::exchange(o.attached_, false)) {}

TcFilter& TcFilter::operator=(TcFilter&& o) noexcept {
  if (this != &o) {
    detach();
    ifindex_ = o.ifindex_;
    dir_ = o.dir_;
    ifname_ = std::move(o.ifname_);
    attached_ = std::exchange(o.attached_, false);
  }
  return *this;
}

TcFilter::~TcFilter() { detach(); }

}  // namespace mapgw
