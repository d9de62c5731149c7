#include "loader/pinning.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace mapgw {

constexpr long kBpfFsMagic = 0xcafe4a11;

Result<std::string> pin_dir(const std::string& bpffs, const std::string& instance) {
  struct statfs fs {};
  if (statfs(bpffs.c_str(), &fs) != 0 || fs.f_type != kBpfFsMagic) {
    return make_error(bpffs + " is not a BPF file system (mount it: mount -t bpf bpf " + bpffs +
                      "; inside `ip netns exec` /sys is remounted, so use a path outside /sys)");
  }
  for (const std::string& dir : {bpffs + "/mapgw", bpffs + "/mapgw/" + instance}) {
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error("creating " + dir, errno);
    if (auto st = check_private_dir(dir); !st) return st.error();
  }
  return bpffs + "/mapgw/" + instance;
}

Status check_private_dir(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return make_error("checking " + dir, errno);
  if (!S_ISDIR(st.st_mode)) return make_error(dir + " is not a directory (a link?); remove it");
  if (st.st_uid != geteuid()) {
    return make_error(dir + " belongs to uid " + std::to_string(st.st_uid) +
                      ", not to this daemon: another local user may have made it; remove it");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return make_error(dir + " is writable by others (mode " + mode + "): chmod 0700 it");
  }
  return Status::Ok();
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

Status check_pinned_maps(bpf_object* obj) {
  std::string differ;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    const char* path = bpf_map__pin_path(map);
    if (!path || access(path, F_OK) != 0) continue;
    const int fd = bpf_obj_get(path);
    if (fd < 0) return make_error(std::string("opening pinned map ") + path, errno);
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    const int err = bpf_obj_get_info_by_fd(fd, &info, &len) ? errno : 0;
    close(fd);
    if (err) return make_error(std::string("reading pinned map ") + path, err);
    auto field = [&](const char* name, uint64_t pinned, uint64_t wanted) {
      if (pinned == wanted) return;
      differ += std::string(differ.empty() ? "" : "; ") + bpf_map__name(map) + " " + name + " " +
                std::to_string(pinned) + " pinned, " + std::to_string(wanted) + " wanted";
    };
    field("type", info.type, bpf_map__type(map));
    field("key size", info.key_size, bpf_map__key_size(map));
    field("value size", info.value_size, bpf_map__value_size(map));
    field("max_entries", info.max_entries, bpf_map__max_entries(map));
    field("flags", info.map_flags, bpf_map__map_flags(map));
  }
  if (!differ.empty()) return make_error("pinned maps differ from this configuration: " + differ);
  return Status::Ok();
}

void remove_pins(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) unlink(e.path().c_str());
  rmdir(dir.c_str());
}

}  // namespace mapgw
