// CPU lists as the kernel writes them ("0-3,6") and the CPUs online: for
// settings that name CPUs (the BR's spread_cpus).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "loader/result.h"

namespace mapgw {

// A CPU list in the kernel's format ("0-3,6"), or an error naming @what.
Result<std::vector<uint32_t>> parse_cpu_list(const std::string& text, const std::string& what);

// The CPUs online now (/sys/devices/system/cpu/online).
Result<std::vector<uint32_t>> online_cpus();

// @cpus are usable: at most @max_cpus of them, distinct, each online.
Status check_cpus_online(std::span<const uint32_t> cpus, uint32_t max_cpus, const std::string& what);

// The CPUs a `spread_cpus` setting names, checked: none for "", the online
// ones for "all", else the list.
Result<std::vector<uint32_t>> spread_cpus_of(const std::string& setting, uint32_t max_cpus,
                                             const std::string& what);

}  // namespace mapgw
