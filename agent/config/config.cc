#include "agent/config/config.h"

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace mapgw {
namespace {

// Location prefix "file:line:col: " for messages about a TOML node.
std::string where(const std::string& origin, const toml::node& n) {
  const auto& s = n.source();
  return origin + ":" + std::to_string(s.begin.line) + ":" + std::to_string(s.begin.column) + ": ";
}

Status only_keys(const toml::table& t, const std::set<std::string>& allowed,
                 const std::string& origin, const std::string& section) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(std::string(k.str()))) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return make_error(where(origin, v) + "unknown key '" + std::string(k.str()) + "' in " +
                        section + " (known: " + list + ")");
    }
  }
  return Status::Ok();
}

template <typename T>
Result<T> get(const toml::table& t, const char* key, const std::string& origin,
              const std::string& section, std::optional<T> fallback) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (fallback) return *fallback;
    return make_error(origin + ": " + section + " needs '" + key + "'");
  }
  auto v = n->value<T>();
  if (!v) {
    return make_error(where(origin, *n) + "'" + key + "' in " + section + " has the wrong type");
  }
  return *v;
}

Result<MapRule> parse_rule_node(const toml::node& n, bool domain_legacy, const std::string& origin,
                                const std::string& what) {
  std::string text;
  bool legacy = domain_legacy;
  if (auto s = n.value<std::string>()) {
    text = *s;
  } else if (const auto* t = n.as_table()) {
    if (auto st = only_keys(*t, {"rule", "legacy_iid"}, origin, what); !st) return st.error();
    auto r = get<std::string>(*t, "rule", origin, what, std::nullopt);
    if (!r) return r.error();
    text = *r;
    auto l = get<bool>(*t, "legacy_iid", origin, what, domain_legacy);
    if (!l) return l.error();
    legacy = *l;
  } else {
    return make_error(where(origin, n) + what +
                      " must be a rule string or { rule = \"...\", legacy_iid = ... }");
  }
  auto spec = RuleSpec::parse(text);
  if (!spec) return make_error(where(origin, n) + what + ": " + spec.error().message);
  spec->legacy_iid = legacy;
  auto rule = MapRule::create(*spec);
  if (!rule) return make_error(where(origin, n) + what + ": " + rule.error().message);
  return rule;
}

Result<DomainConfig> parse_domain(const toml::table& t, size_t index, const std::string& origin) {
  const std::string section = "[[br.domain]] #" + std::to_string(index + 1);
  if (auto st = only_keys(t, {"name", "br_address", "legacy_iid", "rules"}, origin, section); !st) {
    return st.error();
  }
  DomainConfig d;
  auto name = get<std::string>(t, "name", origin, section, "domain" + std::to_string(index + 1));
  if (!name) return name.error();
  d.name = *name;
  auto br = get<std::string>(t, "br_address", origin, section, std::nullopt);
  if (!br) return br.error();
  auto br_addr = Ipv6Addr::parse(*br);
  if (!br_addr) return make_error(origin + ": " + section + " br_address: " + br_addr.error().message);
  d.br_address = *br_addr;
  auto legacy = get<bool>(t, "legacy_iid", origin, section, false);
  if (!legacy) return legacy.error();
  d.legacy_iid = *legacy;
  const toml::array* rules = t.get_as<toml::array>("rules");
  if (!rules || rules->empty()) {
    return make_error(origin + ": " + section + " (" + d.name + ") needs a non-empty 'rules' list");
  }
  for (size_t i = 0; i < rules->size(); ++i) {
    auto r = parse_rule_node(*rules->get(i), d.legacy_iid, origin,
                             "domain " + d.name + " rule " + std::to_string(i + 1));
    if (!r) return r.error();
    d.rules.push_back(std::move(*r));
  }
  return d;
}

Result<BrConfig> parse_br(const toml::table& t, const std::string& origin) {
  if (auto st = only_keys(t, {"ipv4_interface", "ipv6_interface", "slow_path_interface",
                              "icmp_source", "fragment_timeout", "domain"},
                          origin, "[br]");
      !st) {
    return st.error();
  }
  BrConfig b;
  auto v4 = get<std::string>(t, "ipv4_interface", origin, "[br]", std::nullopt);
  if (!v4) return v4.error();
  auto v6 = get<std::string>(t, "ipv6_interface", origin, "[br]", std::nullopt);
  if (!v6) return v6.error();
  b.ipv4_interface = *v4;
  b.ipv6_interface = *v6;
  if (b.ipv4_interface == b.ipv6_interface) {
    return make_error(origin + ": [br] ipv4_interface and ipv6_interface must differ");
  }
  auto slow = get<std::string>(t, "slow_path_interface", origin, "[br]", b.slow_path_interface);
  if (!slow) return slow.error();
  b.slow_path_interface = *slow;
  if (b.slow_path_interface.empty() || b.slow_path_interface.size() > 12) {
    return make_error(origin + ": [br] slow_path_interface must be 1..12 characters (its veth "
                      "peer adds \"-s\")");
  }
  if (const toml::node* n = t.get("icmp_source")) {
    auto s = n->value<std::string>();
    auto a = s ? Ipv4Addr::parse(*s) : Result<Ipv4Addr>(make_error("not a string"));
    if (!a) return make_error(where(origin, *n) + "icmp_source: " + a.error().message);
    b.icmp_source = *a;
  }
  auto ft = get<int64_t>(t, "fragment_timeout", origin, "[br]", 5);
  if (!ft) return ft.error();
  if (*ft < 1 || *ft > 60) {
    return make_error(origin + ": [br] fragment_timeout must be 1..60 seconds");
  }
  b.fragment_timeout_s = static_cast<unsigned>(*ft);
  const toml::array* domains = t.get_as<toml::array>("domain");
  if (!domains || domains->empty()) {
    return make_error(origin + ": [br] needs at least one [[br.domain]] with rules");
  }
  for (size_t i = 0; i < domains->size(); ++i) {
    const toml::table* dt = domains->get(i)->as_table();
    if (!dt) return make_error(origin + ": [[br.domain]] #" + std::to_string(i + 1) + " is not a table");
    auto d = parse_domain(*dt, i, origin);
    if (!d) return d.error();
    b.domains.push_back(std::move(*d));
  }
  return b;
}

}  // namespace

RuleSet Config::all_rules() const {
  std::vector<MapRule> rules;
  for (const auto& d : br.domains) rules.insert(rules.end(), d.rules.begin(), d.rules.end());
  auto set = RuleSet::create(std::move(rules));
  return set ? *set : RuleSet{};  // parse_config() already proved it unambiguous
}

Result<Config> parse_config(std::string_view text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    return make_error(origin + ":" + std::to_string(s.begin.line) + ":" +
                      std::to_string(s.begin.column) + ": " + std::string(e.description()));
  }
  if (auto st = only_keys(root, {"role", "instance", "socket", "xdp_mode", "log_level", "br"},
                          origin, "the top level");
      !st) {
    return st.error();
  }
  Config c;
  auto role = get<std::string>(root, "role", origin, "the top level", std::nullopt);
  if (!role) return role.error();
  if (*role != "br") {
    return make_error(origin + ": role = \"" + *role + "\" is not a role this mapgw runs (\"br\")");
  }
  auto inst = get<std::string>(root, "instance", origin, "the top level", c.instance);
  if (!inst) return inst.error();
  c.instance = *inst;
  if (c.instance.empty() || c.instance.find('/') != std::string::npos || c.instance.size() > 32) {
    return make_error(origin + ": instance must be 1..32 characters without '/'");
  }
  auto sock = get<std::string>(root, "socket", origin, "the top level",
                               "/run/mapgw/" + c.instance + ".sock");
  if (!sock) return sock.error();
  c.socket_path = *sock;
  auto mode = get<std::string>(root, "xdp_mode", origin, "the top level", c.xdp_mode);
  if (!mode) return mode.error();
  if (*mode != "native" && *mode != "generic") {
    return make_error(origin + ": xdp_mode must be \"native\" or \"generic\", not \"" + *mode + "\"");
  }
  c.xdp_mode = *mode;
  auto level = get<std::string>(root, "log_level", origin, "the top level", c.log_level);
  if (!level) return level.error();
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.count(*level)) return make_error(origin + ": unknown log_level \"" + *level + "\"");
  c.log_level = *level;
  const toml::table* br = root.get_as<toml::table>("br");
  if (!br) return make_error(origin + ": role = \"br\" needs a [br] section");
  auto b = parse_br(*br, origin);
  if (!b) return b.error();
  c.br = std::move(*b);
  std::vector<MapRule> all;
  for (const auto& d : c.br.domains) all.insert(all.end(), d.rules.begin(), d.rules.end());
  if (auto set = RuleSet::create(std::move(all)); !set) {
    return make_error(origin + ": rules across all domains: " + set.error().message);
  }
  return c;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return make_error("cannot read config " + path, errno);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace mapgw
