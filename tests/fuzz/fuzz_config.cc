// libFuzzer: the configuration loader on arbitrary text (toml_guard, toml++,
// every section's checks). Anything is an error message or a config, never
// a crash, a sanitizer report or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = mapgw::parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  if (!c) (void)c.error().describe().size();
  return 0;
}
