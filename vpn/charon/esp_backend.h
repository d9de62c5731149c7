// Which ESP data plane charon gets (DESIGN.md "VPN"): the kernel's
// (kernel-netlink) where the running kernel has ESP — every production
// server —, else strongSwan's user-space ESP over TUN (kernel-libipsec:
// tunnel mode, UDP-encapsulated, which is what TS-1017 needs), as on test
// machines built without it.
#pragma once

#include <string>

namespace mapgw::vpn {

enum class EspBackend { kKernel, kLibipsec };

const char* to_string(EspBackend b);

// "auto", "kernel" or "libipsec" from the configuration; auto probes.
struct EspChoice {
  EspBackend backend;
  std::string why;  // for the start-up log line
};
EspChoice choose_esp_backend(const std::string& setting);

// Does this kernel have ESP (built in, loaded, or a module to load)?
bool kernel_has_esp(std::string* evidence = nullptr);

}  // namespace mapgw::vpn
