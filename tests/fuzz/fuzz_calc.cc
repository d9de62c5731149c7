// libFuzzer: `mapgwctl calc` on arbitrary arguments. The input is split at
// NUL bytes into the fields a user types (rules, prefix, destination,
// sources, DHCPv6 hex); the JSON output is always produced, so invalid
// UTF-8 reaches the writer too.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "agent/cli/calc_command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> f(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) f.emplace_back();
    else f.back() += static_cast<char>(data[i]);
  }
  f.resize(8);
  mapgw::CalcArgs a;
  if (!f[0].empty()) a.rules.push_back(f[0]);
  if (!f[1].empty()) a.rules.push_back(f[1]);
  if (!f[2].empty()) a.prefix = f[2];
  if (!f[3].empty()) a.dst = f[3];
  if (!f[4].empty()) a.check_src = f[4];
  if (!f[5].empty()) a.inner_src = f[5];
  if (!f[6].empty()) a.dhcpv6_hex = f[6];
  a.legacy_iid = !f[7].empty();
  std::ostringstream out, err;
  for (bool json : {true, false}) {
    a.json = json;
    mapgw::run_calc(a, out, err);
  }
  return 0;
}
