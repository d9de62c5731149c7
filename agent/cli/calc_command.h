// `mapgwctl calc`: answers MAP-E questions from rules given on the command
// line, without a running daemon. Its JSON shape is a published interface
// (other tooling parses it): change it only by adding keys.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace mapgw {

struct CalcArgs {
  std::vector<std::string> rules;
  std::optional<std::string> prefix;     // --prefix END_USER_PREFIX
  std::optional<std::string> dst;        // --dst IPV4:PORT
  std::optional<std::string> check_src;  // --check-src IPV6
  std::optional<std::string> inner_src;  // --inner-src IPV4:PORT
  std::optional<std::string> dhcpv6_hex;
  bool legacy_iid = false;
  bool json = false;
};

// Exit status: 0 answered (even when the answer is "drop"), 2 bad input.
int run_calc(const CalcArgs& args, std::ostream& out, std::ostream& err);

// The error shape shared by every mapgwctl command.
void print_error(bool json, const std::string& message, std::ostream& out, std::ostream& err);

}  // namespace mapgw
