#include "vpn/charon/esp_backend.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <fstream>

namespace mapgw::vpn {
namespace {

bool exists(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0;
}

bool file_mentions(const std::string& path, const std::string& needle) {
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

const char* to_string(EspBackend b) { return b == EspBackend::kKernel ? "kernel" : "libipsec"; }

bool kernel_has_esp(std::string* evidence) {
  // Both families: the NGN's outer IPv6 needs esp6, an IPv4 peer esp4.
  utsname u{};
  uname(&u);
  const std::string mods = std::string("/lib/modules/") + u.release;
  std::string found;
  for (const char* m : {"esp4", "esp6"}) {
    const std::string ko = std::string("/") + m + ".ko";
    std::string how;
    if (exists(std::string("/sys/module/") + m)) {
      how = "loaded";
    } else if (file_mentions(mods + "/modules.builtin", ko)) {
      how = "built in";
    } else if (file_mentions(mods + "/modules.dep", ko)) {
      how = "module";
    } else {
      if (evidence) *evidence = std::string("no ") + m + " in " + u.release;
      return false;
    }
    found += (found.empty() ? "" : ", ") + std::string(m) + " " + how;
  }
  if (evidence) *evidence = found + " (" + u.release + ")";
  return true;
}

EspChoice choose_esp_backend(const std::string& setting) {
  if (setting == "kernel") return {EspBackend::kKernel, "configured"};
  if (setting == "libipsec") return {EspBackend::kLibipsec, "configured"};
  std::string evidence;
  if (kernel_has_esp(&evidence)) return {EspBackend::kKernel, evidence};
  return {EspBackend::kLibipsec, evidence + ": user-space ESP over TUN"};
}

}  // namespace mapgw::vpn
