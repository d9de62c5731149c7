#include "agent/br/rule_history.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "agent/map/mapping.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

nlohmann::json epoch_json(const RuleEpoch& e) {
  nlohmann::json domains = nlohmann::json::array();
  for (const auto& d : e.domains) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : d.rules) rules.push_back({{"rule", r.str()}, {"legacy_iid", r.legacy_iid()}});
    domains.push_back({{"name", d.name}, {"br_address", d.br_address.str()}, {"rules", rules}});
  }
  return {{"since", format_time_ms(e.since_ms)}, {"since_ms", e.since_ms}, {"domains", domains}};
}

// One line of the file, every field's type checked: the file is ours, but a
// crash, a full disk or an editor can leave anything in it.
Result<RuleEpoch> epoch_from_json(const nlohmann::json& j) {
  RuleEpoch e;
  if (!j.is_object() || !j.contains("since_ms") || !j["since_ms"].is_number_integer() ||
      !j.contains("domains") || !j["domains"].is_array()) {
    return make_error("not a rule history entry (since_ms, domains)");
  }
  e.since_ms = j["since_ms"].get<int64_t>();
  auto text = [](const nlohmann::json& o, const char* key) -> std::string {
    return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : "";
  };
  for (const auto& dj : j["domains"]) {
    if (!dj.is_object() || !dj.contains("rules") || !dj["rules"].is_array()) {
      return make_error("a domain without its rules");
    }
    DomainConfig d;
    d.name = text(dj, "name");
    auto br = Ipv6Addr::parse(text(dj, "br_address"));
    if (!br) return br.error();
    d.br_address = *br;
    for (const auto& rj : dj["rules"]) {
      if (!rj.is_object()) return make_error("a rule that is not an object");
      auto spec = RuleSpec::parse(text(rj, "rule"));
      if (!spec) return spec.error();
      spec->legacy_iid = rj.contains("legacy_iid") && rj["legacy_iid"].is_boolean() && rj["legacy_iid"].get<bool>();
      auto r = MapRule::create(*spec);
      if (!r) return r.error();
      d.rules.push_back(*r);
    }
    e.domains.push_back(std::move(d));
  }
  return e;
}

}  // namespace

Result<RuleHistory> RuleHistory::open(const std::string& path) {
  RuleHistory h;
  h.path_ = path;
  if (path.empty()) return h;
  std::ifstream in(path);
  h.read(in, path);
  return h;
}

void RuleHistory::read(std::istream& in, const std::string& path) {
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    torn_tail_ = in.eof();  // the last line had no newline: cut short
    ++n;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    auto e = j.is_discarded() ? Result<RuleEpoch>(make_error("not JSON")) : epoch_from_json(j);
    if (!e) {  // skipped and counted: the history informs, it never blocks a start
      skipped_.push_back(path + ":" + std::to_string(n) + ": " + e.error().message);
      continue;
    }
    epochs_.push_back(std::move(*e));
  }
}

Status RuleHistory::record(int64_t now_ms, const std::vector<DomainConfig>& domains) {
  RuleEpoch e{now_ms, domains};
  if (!epochs_.empty() && epoch_json(epochs_.back())["domains"] == epoch_json(e)["domains"]) {
    return Status::Ok();  // same rules: a restart or a reload that changed nothing else
  }
  if (!path_.empty()) {
    // One write(2) of the whole line to an O_APPEND file: a crash of this
    // process cannot leave half of it (a torn line from a power loss is
    // skipped on reading).
    const std::string line = (torn_tail_ ? "\n" : "") + json_text(epoch_json(e)) + "\n";
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return make_error("opening the rule history " + path_, errno);
    const ssize_t n = ::write(fd, line.data(), line.size());
    const int err = errno;
    ::fsync(fd);
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size())) return make_error("appending to the rule history " + path_, err);
    torn_tail_ = false;
  }
  epochs_.push_back(std::move(e));
  return Status::Ok();
}

const RuleEpoch* RuleHistory::at(int64_t t_ms) const {
  const RuleEpoch* found = nullptr;
  for (const auto& e : epochs_) {
    if (e.since_ms <= t_ms) found = &e;
  }
  return found;
}

nlohmann::json whois(const RuleHistory& history, const Ipv4Endpoint& who, int64_t at_ms) {
  nlohmann::json out = {{"query", who.str()}, {"at", format_time_ms(at_ms)}};
  const RuleEpoch* e = history.at(at_ms);
  if (!e) {
    out["found"] = false;
    out["reason"] = "the rule history starts later";
    return out;
  }
  out["rules_since"] = format_time_ms(e->since_ms);
  for (const auto& d : e->domains) {
    auto set = RuleSet::create(d.rules);
    if (!set) continue;
    auto r = br_lookup(*set, who);
    if (r.reason == "no_rule") continue;
    out["domain"] = d.name;
    out["found"] = r.encapsulate;
    out["reason"] = r.reason;
    out["detail"] = r.detail;
    if (r.encapsulate) {
      out["end_user_prefix"] = r.end_user_prefix->str();
      out["ce_ipv6_address"] = r.ce_address->str();
      out["psid"] = r.psid ? nlohmann::json(*r.psid) : nlohmann::json(nullptr);
      out["rule"] = r.rule->str();
    }
    return out;
  }
  out["found"] = false;
  out["reason"] = "no_rule";
  return out;
}

Result<int64_t> parse_time_ms(const std::string& text) {
  if (!text.empty() && text[0] == '@') {
    try {
      size_t used = 0;
      double s = std::stod(text.substr(1), &used);
      if (used + 1 != text.size()) throw std::invalid_argument("trailing");
      // NaN, infinities and what no int64 of milliseconds holds would
      // become nonsense dates (undefined behaviour, in fact).
      constexpr double kLatest = 253402300799;  // 9999-12-31T23:59:59Z
      if (!std::isfinite(s) || s < 0 || s > kLatest) {
        return make_error("bad time '" + text + "': unix seconds from 0 to " +
                          std::to_string(static_cast<int64_t>(kLatest)));
      }
      return static_cast<int64_t>(s * 1000);
    } catch (...) {
      return make_error("bad time '" + text + "': expected @<unix seconds>");
    }
  }
  tm t{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (!rest) {
    return make_error("bad time '" + text + "': expected 2026-11-21T14:00:00Z, "
                      "2026-11-21T23:00:00+09:00 or @<unix seconds>");
  }
  int64_t secs = timegm(&t);
  std::string zone(rest);
  if (zone == "Z" || zone.empty()) return secs * 1000;
  int hh = 0, mm = 0;
  char sign = 0;
  if (std::sscanf(zone.c_str(), "%c%2d:%2d", &sign, &hh, &mm) == 3 && (sign == '+' || sign == '-')) {
    const int64_t off = (hh * 3600 + mm * 60) * (sign == '+' ? 1 : -1);
    return (secs - off) * 1000;
  }
  return make_error("bad time zone in '" + text + "'");
}

std::string format_time_ms(int64_t ms) {
  time_t s = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&s, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace mapgw
