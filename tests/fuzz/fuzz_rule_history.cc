// libFuzzer: the BR's rule-history file (JSON lines) on arbitrary bytes:
// every bad line skipped and named, never a crash (the attack run found an
// out-of-bounds read for a domain without "rules").
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "agent/br/rule_history.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto h = *mapgw::RuleHistory::open("");
  h.read(in, "fuzz.jsonl");
  if (auto who = mapgw::Ipv4Endpoint::parse("192.0.2.18:1232")) (void)mapgw::whois(h, *who, 1'000'000);
  return 0;
}
