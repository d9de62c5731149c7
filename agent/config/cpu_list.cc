#include "agent/config/cpu_list.h"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <set>

namespace mapgw {
namespace {

Result<uint32_t> cpu_number(std::string_view s, const std::string& what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > 65535) {
    return make_error(what + ": \"" + std::string(s) + "\" is not a CPU number");
  }
  return v;
}

}  // namespace

Result<std::vector<uint32_t>> parse_cpu_list(const std::string& text, const std::string& what) {
  std::vector<uint32_t> out;
  std::string_view rest = text;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  if (rest.empty()) return make_error(what + ": empty CPU list");
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t dash = item.find('-');
    auto first = cpu_number(item.substr(0, dash), what);
    if (!first) return first.error();
    uint32_t last = *first;
    if (dash != std::string_view::npos) {
      auto l = cpu_number(item.substr(dash + 1), what);
      if (!l) return l.error();
      if (*l < *first) return make_error(what + ": range \"" + std::string(item) + "\" runs backwards");
      last = *l;
    }
    for (uint32_t c = *first; c <= last; ++c) out.push_back(c);
  }
  return out;
}

Result<std::vector<uint32_t>> online_cpus() {
  const char* path = "/sys/devices/system/cpu/online";
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return make_error(std::string("reading ") + path, errno ? errno : EIO);
  return parse_cpu_list(line, path);
}

Status check_cpus_online(std::span<const uint32_t> cpus, uint32_t max_cpus, const std::string& what) {
  if (cpus.size() > max_cpus) {
    return make_error(what + ": " + std::to_string(cpus.size()) + " CPUs, at most " +
                      std::to_string(max_cpus));
  }
  auto online = online_cpus();
  if (!online) return online.error();
  const std::set<uint32_t> up(online->begin(), online->end());
  std::set<uint32_t> seen;
  for (uint32_t c : cpus) {
    if (!seen.insert(c).second) return make_error(what + ": CPU " + std::to_string(c) + " twice");
    if (!up.count(c)) return make_error(what + ": CPU " + std::to_string(c) + " is not online");
  }
  return Status::Ok();
}

Result<std::vector<uint32_t>> spread_cpus_of(const std::string& setting, uint32_t max_cpus,
                                             const std::string& what) {
  if (setting.empty()) return std::vector<uint32_t>{};
  auto cpus = setting == "all" ? online_cpus() : parse_cpu_list(setting, what);
  if (!cpus) return cpus.error();
  if (auto st = check_cpus_online(*cpus, max_cpus, what); !st) return st.error();
  return cpus;
}

}  // namespace mapgw
