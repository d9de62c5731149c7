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
  auto say = [&](const std::string& e) {
    if (evidence) *evidence = e;
    return true;
  };
  if (exists("/sys/module/esp4")) return say("esp4 loaded");
  utsname u{};
  uname(&u);
  const std::string mods = std::string("/lib/modules/") + u.release;
  if (file_mentions(mods + "/modules.builtin", "/esp4.ko")) return say("esp4 built into " + std::string(u.release));
  if (file_mentions(mods + "/modules.dep", "/esp4.ko")) return say("esp4 module of " + std::string(u.release));
  if (evidence) *evidence = std::string("no esp4 in ") + u.release;
  return false;
}

EspChoice choose_esp_backend(const std::string& setting) {
  if (setting == "kernel") return {EspBackend::kKernel, "configured"};
  if (setting == "libipsec") return {EspBackend::kLibipsec, "configured"};
  std::string evidence;
  if (kernel_has_esp(&evidence)) return {EspBackend::kKernel, evidence};
  return {EspBackend::kLibipsec, evidence + ": user-space ESP over TUN"};
}

}  // namespace mapgw::vpn
