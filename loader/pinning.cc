#include "loader/pinning.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace mapgw {

constexpr long kBpfFsMagic = 0xcafe4a11;

Result<std::string> pin_dir(const std::string& bpffs, const std::string& instance) {
  struct statfs fs {};
  if (statfs(bpffs.c_str(), &fs) != 0 || fs.f_type != kBpfFsMagic) {
    return make_error(bpffs + " is not a BPF file system (mount it: mount -t bpf bpf " + bpffs +
                      "; inside `ip netns exec` /sys is remounted, so use a path outside /sys)");
  }
  const std::string dir = bpffs + "/mapgw/" + instance;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("creating " + dir + ": " + ec.message());
  return dir;
}

Status set_map_pins(bpf_object* obj, const std::string& dir) {
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__is_internal(map)) continue;  // .rodata etc. belong to one program load
    // Devmaps are not pinned: the kernel adds BPF_F_RDONLY_PROG to them, so
    // libbpf's reuse check never matches, and they only hold ifindexes that
    // every start writes again anyway.
    const auto type = bpf_map__type(map);
    if (type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH) continue;
    const std::string path = dir + "/" + bpf_map__name(map);
    if (int err = bpf_map__set_pin_path(map, path.c_str())) {
      return make_error("pin path for map " + std::string(bpf_map__name(map)), -err);
    }
  }
  return Status::Ok();
}

void remove_pins(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) unlink(e.path().c_str());
  rmdir(dir.c_str());
}

}  // namespace mapgw
