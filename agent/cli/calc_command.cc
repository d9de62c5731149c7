#include "agent/cli/calc_command.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "agent/map/dhcpv6_mape.h"
#include "agent/map/mapping.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

json rule_json(const MapRule& r) {
  json psid = nullptr;
  if (auto p = r.provisioned_psid()) psid = *p;
  return {{"ipv6", r.ipv6_prefix().str()}, {"ipv4", r.ipv4_prefix().str()},
          {"ea", r.ea_len()},             {"offset", r.psid_offset()},
          {"psidlen", r.psid_len()},      {"psid", psid},
          {"fmr", r.fmr()}};
}

std::string hex_port(unsigned v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*x (%u)", width, v, v);
  return buf;
}

Result<RuleSet> load_rules(const CalcArgs& args) {
  std::vector<MapRule> rules;
  for (size_t i = 0; i < args.rules.size(); ++i) {
    auto spec = RuleSpec::parse(args.rules[i]);
    if (!spec) return make_error("--rule " + std::to_string(i + 1) + ": " + spec.error().message);
    spec->legacy_iid = args.legacy_iid;
    auto rule = MapRule::create(*spec);
    if (!rule) return make_error("--rule " + std::to_string(i + 1) + ": " + rule.error().message);
    rules.push_back(*rule);
  }
  return RuleSet::create(std::move(rules));
}

const char* iid_name(const MapRule& r) {
  return r.legacy_iid() ? "draft-ietf-softwire-map-03 (legacy)" : "RFC 7597";
}

int calc_prefix(const RuleSet& rules, const std::string& text, bool as_json, std::ostream& out,
                std::ostream& err) {
  auto eup = Ipv6Prefix::parse(text);
  if (!eup) {
    print_error(as_json, "--prefix: " + eup.error().message, out, err);
    return 2;
  }
  auto m = derive_ce(rules, *eup);
  if (!m) {
    print_error(as_json, m.error().message, out, err);
    return 2;
  }
  const auto ranges = m->ports.ranges();
  if (as_json) {
    json jr = json::array();
    for (const auto& r : ranges) jr.push_back({r.lo, r.hi});
    json j = {{"ipv4_address", m->ipv4.str()},
              {"ipv4_prefix_len", m->ipv4_prefix_len},
              {"psid", m->psid ? json(*m->psid) : json(nullptr)},
              {"psid_len", m->ports.psid_len()},
              {"psid_offset", m->ports.offset()},
              {"port_count", m->ports.size()},
              {"port_ranges", jr},
              {"ce_ipv6_address", m->ce_address.str()},
              {"end_user_prefix", m->end_user_prefix.str()},
              {"iid_layout", m->rule.legacy_iid() ? "legacy" : "rfc7597"},
              {"rule", rule_json(m->rule)}};
    out << json_text(j) << "\n";
    return 0;
  }
  out << "Rule (BMR)        " << m->rule.str() << "\n";
  out << "End-user prefix   " << m->end_user_prefix.str() << "\n";
  out << "IPv4 address      " << m->ipv4.str();
  if (m->ipv4_prefix_len < 32) out << "/" << m->ipv4_prefix_len;
  out << "\n";
  if (m->psid) {
    out << "PSID              " << hex_port(*m->psid, 2) << ", " << m->ports.psid_len()
        << " bits, offset " << m->ports.offset() << "\n";
  } else {
    out << "PSID              none (address not shared)\n";
  }
  out << "CE IPv6 address   " << m->ce_address.str() << "  [" << iid_name(m->rule) << " IID]\n";
  out << "Ports             " << m->ports.size() << " in " << ranges.size() << " range"
      << (ranges.size() == 1 ? "" : "s") << "\n\n";
  out << "  Set  First            Last\n";
  for (size_t i = 0; i < ranges.size(); ++i) {
    char line[96];
    std::snprintf(line, sizeof line, "  %3zu  %-15s  %s\n", i + 1,
                  hex_port(ranges[i].lo, 4).c_str(), hex_port(ranges[i].hi, 4).c_str());
    out << line;
  }
  return 0;
}

int calc_dst(const RuleSet& rules, const std::string& text, bool as_json, std::ostream& out,
             std::ostream& err) {
  auto dst = Ipv4Endpoint::parse(text);
  if (!dst) {
    print_error(as_json, "--dst: " + dst.error().message, out, err);
    return 2;
  }
  auto r = br_lookup(rules, *dst);
  if (as_json) {
    json j = {{"action", r.encapsulate ? "encapsulate" : "drop"},
              {"psid", r.psid ? json(*r.psid) : json(nullptr)},
              {"end_user_prefix", r.end_user_prefix ? json(r.end_user_prefix->str()) : json(nullptr)},
              {"ce_ipv6_address", r.ce_address ? json(r.ce_address->str()) : json(nullptr)},
              {"reason", r.reason},
              {"detail", r.detail},
              {"rule", r.rule ? rule_json(*r.rule) : json(nullptr)}};
    out << json_text(j) << "\n";
    return 0;
  }
  out << "Action            " << (r.encapsulate ? "encapsulate" : "drop") << " (" << r.reason
      << ")\n";
  if (r.rule) out << "Rule              " << r.rule->str() << "\n";
  if (r.psid) out << "PSID              " << hex_port(*r.psid, 2) << "\n";
  if (r.end_user_prefix) out << "End-user prefix   " << r.end_user_prefix->str() << "\n";
  if (r.ce_address) out << "CE IPv6 address   " << r.ce_address->str() << "\n";
  out << "Why               " << r.detail << "\n";
  return 0;
}

int calc_check_src(const RuleSet& rules, const CalcArgs& args, std::ostream& out,
                   std::ostream& err) {
  if (!args.inner_src) {
    print_error(args.json, "--check-src needs --inner-src IPV4:PORT", out, err);
    return 2;
  }
  auto outer = Ipv6Addr::parse(*args.check_src);
  if (!outer) {
    print_error(args.json, "--check-src: " + outer.error().message, out, err);
    return 2;
  }
  auto inner = Ipv4Endpoint::parse(*args.inner_src);
  if (!inner) {
    print_error(args.json, "--inner-src: " + inner.error().message, out, err);
    return 2;
  }
  auto c = check_source(rules, *outer, *inner);
  if (args.json) {
    out << json_text(json{{"action", c.accept ? "accept" : "drop"}, {"reason", c.reason}, {"detail", c.detail}})
        << "\n";
    return 0;
  }
  out << "Action            " << (c.accept ? "accept" : "drop") << " (" << c.reason << ")\n";
  if (c.rule) out << "Rule              " << c.rule->str() << "\n";
  out << "Why               " << c.detail << "\n";
  return 0;
}

int calc_dhcpv6(const std::string& text, bool as_json, std::ostream& out, std::ostream& err) {
  auto bytes = parse_hex(text);
  if (!bytes) {
    print_error(as_json, "--dhcpv6-hex: " + bytes.error().message, out, err);
    return 2;
  }
  auto p = parse_dhcpv6_mape(*bytes);
  if (!p) {
    print_error(as_json, p.error().message, out, err);
    return 2;
  }
  if (as_json) {
    json rules = json::array(), brs = json::array();
    for (const auto& r : p->rules) rules.push_back(rule_json(r));
    for (const auto& b : p->brs) brs.push_back(b.str());
    out << json_text(json{{"rules", rules}, {"br", brs}, {"ignored", p->ignored}}) << "\n";
    return 0;
  }
  for (size_t i = 0; i < p->rules.size(); ++i) {
    out << "Rule " << i + 1 << "            " << p->rules[i].str() << "\n";
  }
  for (const auto& b : p->brs) out << "BR                " << b.str() << "\n";
  for (const auto& s : p->ignored) out << "Ignored           " << s << "\n";
  return 0;
}

}  // namespace

void print_error(bool as_json, const std::string& message, std::ostream& out, std::ostream& err) {
  if (as_json) {
    out << json_text(json{{"error", message}}) << "\n";
  } else {
    err << "mapgwctl: " << message << "\n";
  }
}

int run_calc(const CalcArgs& args, std::ostream& out, std::ostream& err) {
  const int modes = !!args.prefix + !!args.dst + !!args.check_src + !!args.dhcpv6_hex;
  if (modes != 1) {
    print_error(args.json,
                "calc needs exactly one of --prefix, --dst, --check-src, --dhcpv6-hex", out, err);
    return 2;
  }
  if (args.inner_src && !args.check_src) {
    print_error(args.json, "--inner-src goes with --check-src", out, err);
    return 2;
  }
  if (args.dhcpv6_hex) {
    if (!args.rules.empty()) {
      print_error(args.json, "--rule is not used with --dhcpv6-hex (the option carries the rules)",
                  out, err);
      return 2;
    }
    return calc_dhcpv6(*args.dhcpv6_hex, args.json, out, err);
  }
  if (args.rules.empty()) {
    print_error(args.json, "calc needs at least one --rule", out, err);
    return 2;
  }
  auto rules = load_rules(args);
  if (!rules) {
    print_error(args.json, rules.error().message, out, err);
    return 2;
  }
  if (args.prefix) return calc_prefix(*rules, *args.prefix, args.json, out, err);
  if (args.dst) return calc_dst(*rules, *args.dst, args.json, out, err);
  return calc_check_src(*rules, args, out, err);
}

}  // namespace mapgw
