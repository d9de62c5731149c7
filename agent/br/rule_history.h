// The BR's rule history, for abuse response (book §5.3.2, RFC 6302): which
// End-user prefix and CE address held an IPv4 address and port at a given
// time. A BR is stateless, so the answer comes from the rules in force
// then; every rule set the BR applies is recorded with its start time, in
// memory and as JSON lines in a file that survives restarts.
#pragma once

#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "loader/result.h"
#include "agent/config/config.h"
#include "agent/net/ip.h"

namespace mapgw {

struct RuleEpoch {
  int64_t since_ms = 0;              // Unix time the rule set took effect
  std::vector<DomainConfig> domains;
};

class RuleHistory {
 public:
  // @path: JSON-lines file to load and append to; "" keeps it in memory.
  static Result<RuleHistory> open(const std::string& path);
  // Appends the entries of @in (named @path in what skipped() says).
  void read(std::istream& in, const std::string& path);

  // Records @domains as in force from @now_ms, unless identical to the last.
  Status record(int64_t now_ms, const std::vector<DomainConfig>& domains);
  // The rule set in force at @t_ms, if the history reaches back that far.
  const RuleEpoch* at(int64_t t_ms) const;
  size_t size() const { return epochs_.size(); }
  // Lines open() could not read ("file:line: why"), skipped.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  std::string path_;
  std::vector<RuleEpoch> epochs_;
  std::vector<std::string> skipped_;
  bool torn_tail_ = false;  // the file ends inside a line
};

// The answer to "who had IPV4:PORT at time T", as JSON.
nlohmann::json whois(const RuleHistory& history, const Ipv4Endpoint& who, int64_t at_ms);

// "2026-11-21T14:00:00Z", "2026-11-21T14:00:00+09:00" or "@<unix seconds>".
Result<int64_t> parse_time_ms(const std::string& text);
std::string format_time_ms(int64_t ms);

}  // namespace mapgw
