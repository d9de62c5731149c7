#include "agent/config/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "agent/config/cpu_list.h"
#include "agent/config/toml_guard.h"
#include "agent/config/toml_read.h"
#include "agent/map/dhcpv6_mape.h"
#include "agent/map/mapping.h"

namespace mapgw {

const char* to_string(Role r) {
  switch (r) {
    case Role::kBr: return "br";
    case Role::kCe: return "ce";
    case Role::kNone: return "none";
  }
  return "?";
}

namespace {

// `spread_cpus`: "" (off), "all", or a CPU list in the kernel's format.
Result<std::string> get_spread_cpus(const toml::table& t, const std::string& origin,
                                    const std::string& section) {
  auto spread = get<std::string>(t, "spread_cpus", origin, section, std::string());
  if (!spread) return spread.error();
  if (!spread->empty() && *spread != "all") {
    if (auto cpus = parse_cpu_list(*spread, origin + ": " + section + " spread_cpus"); !cpus) {
      return cpus.error();
    }
  }
  return spread;
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
                              "icmp_source", "fragment_timeout", "spread_cpus", "domain"},
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
  auto spread = get_spread_cpus(t, origin, "[br]");
  if (!spread) return spread.error();
  b.spread_cpus = *spread;
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

Result<uint8_t> parse_proto(const std::string& p, const std::string& where, bool allow_any) {
  if (p == "tcp") return uint8_t{6};
  if (p == "udp") return uint8_t{17};
  if (p == "icmp") return uint8_t{1};
  if (allow_any && p == "any") return uint8_t{0};
  return make_error(where + ": protocol must be tcp, udp" + (allow_any ? ", icmp or any" : "") +
                    ", not \"" + p + "\"");
}

Result<std::pair<uint16_t, uint16_t>> parse_port_range(const std::string& text, const std::string& where) {
  auto dash = text.find('-');
  auto one = [&](std::string_view v) -> Result<uint16_t> {
    unsigned n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n > 65535) {
      return make_error(where + ": bad port \"" + std::string(v) + "\"");
    }
    return static_cast<uint16_t>(n);
  };
  std::string_view t(text);
  auto lo = one(t.substr(0, dash));
  if (!lo) return lo.error();
  auto hi = dash == std::string::npos ? lo : one(t.substr(dash + 1));
  if (!hi) return hi.error();
  if (*hi < *lo) return make_error(where + ": port range " + text + " is backwards");
  return std::pair{*lo, *hi};
}

Result<NatTimeoutConfig> parse_timeouts(const toml::table& t, const std::string& origin) {
  const std::string sec = "[ce.timeouts]";
  if (auto st = only_keys(t, {"udp", "tcp_established", "tcp_transitory", "icmp"}, origin, sec); !st) {
    return st.error();
  }
  NatTimeoutConfig n;
  struct Field {
    const char* key;
    unsigned* out;
    unsigned min;
    const char* why;
  } fields[] = {{"udp", &n.udp_s, 120, "RFC 4787 REQ-5"},
                {"tcp_established", &n.tcp_established_s, 7440, "RFC 5382 REQ-5"},
                {"tcp_transitory", &n.tcp_transitory_s, 240, "RFC 5382 REQ-5"},
                {"icmp", &n.icmp_s, 60, "RFC 5508 REQ-1"}};
  for (auto& f : fields) {
    auto v = get<int64_t>(t, f.key, origin, sec, *f.out);
    if (!v) return v.error();
    if (*v < f.min || *v > 86400 * 7) {
      return make_error(origin + ": " + sec + " " + f.key + " = " + std::to_string(*v) +
                        ": must be " + std::to_string(f.min) + ".." + std::to_string(86400 * 7) +
                        " seconds (" + f.why + ")");
    }
    *f.out = static_cast<unsigned>(*v);
  }
  return n;
}

Result<CeConfig> parse_ce(const toml::table& t, const std::string& origin) {
  const std::string sec = "[ce]";
  if (auto st = only_keys(t, {"wan_interface", "lan_interface", "slow_path_interface", "rules",
                              "br_address", "dhcpv6_hex", "end_user_prefix", "legacy_iid",
                              "filtering", "max_sessions", "host_session_limit", "host_port_share", "timeouts",
                              "static_napt", "filter", "ipv4_routes", "nat_log", "spread_cpus"},
                          origin, sec);
      !st) {
    return st.error();
  }
  CeConfig c;
  auto wan = get<std::string>(t, "wan_interface", origin, sec, std::nullopt);
  if (!wan) return wan.error();
  auto lan = get<std::string>(t, "lan_interface", origin, sec, std::nullopt);
  if (!lan) return lan.error();
  c.wan_interface = *wan;
  c.lan_interface = *lan;
  if (c.wan_interface == c.lan_interface) {
    return make_error(origin + ": [ce] wan_interface and lan_interface must differ");
  }
  auto slow = get<std::string>(t, "slow_path_interface", origin, sec, c.slow_path_interface);
  if (!slow) return slow.error();
  c.slow_path_interface = *slow;
  auto legacy = get<bool>(t, "legacy_iid", origin, sec, false);
  if (!legacy) return legacy.error();
  c.legacy_iid = *legacy;
  auto spread = get_spread_cpus(t, origin, sec);
  if (!spread) return spread.error();
  c.spread_cpus = *spread;

  const toml::array* rules = t.get_as<toml::array>("rules");
  const toml::node* hex = t.get("dhcpv6_hex");
  if (rules && hex) {
    return make_error(origin + ": [ce] takes rules + br_address, or dhcpv6_hex, not both");
  }
  if (hex) {
    auto h = hex->value<std::string>();
    auto bytes = h ? parse_hex(*h) : Result<std::vector<uint8_t>>(make_error("not a string"));
    if (!bytes) return make_error(where(origin, *hex) + "dhcpv6_hex: " + bytes.error().message);
    auto p = parse_dhcpv6_mape(*bytes);
    if (!p) return make_error(where(origin, *hex) + "dhcpv6_hex: " + p.error().message);
    for (auto r : p->rules) {
      RuleSpec spec;  // re-create with this CE's IID layout
      auto re = RuleSpec::parse(r.str());
      spec = *re;
      spec.legacy_iid = c.legacy_iid;
      c.rules.push_back(*MapRule::create(spec));
    }
    c.br_address = p->brs.front();
  } else {
    if (!rules || rules->empty()) {
      return make_error(origin + ": [ce] needs 'rules' (with br_address) or 'dhcpv6_hex'");
    }
    for (size_t i = 0; i < rules->size(); ++i) {
      auto r = parse_rule_node(*rules->get(i), c.legacy_iid, origin, "ce rule " + std::to_string(i + 1));
      if (!r) return r.error();
      c.rules.push_back(std::move(*r));
    }
  }
  if (const toml::node* n = t.get("br_address")) {
    auto s = n->value<std::string>();
    auto a = s ? Ipv6Addr::parse(*s) : Result<Ipv6Addr>(make_error("not a string"));
    if (!a) return make_error(where(origin, *n) + "br_address: " + a.error().message);
    c.br_address = *a;
  }
  if (!c.br_address) return make_error(origin + ": [ce] needs br_address (or dhcpv6_hex with a BR)");
  if (auto set = RuleSet::create(c.rules); !set) {
    return make_error(origin + ": [ce] rules: " + set.error().message);
  }

  auto eup = get<std::string>(t, "end_user_prefix", origin, sec, "auto");
  if (!eup) return eup.error();
  if (*eup != "auto") {
    auto p = Ipv6Prefix::parse(*eup);
    if (!p) return make_error(origin + ": [ce] end_user_prefix: " + p.error().message);
    auto set = RuleSet::create(c.rules);
    if (auto m = derive_ce(*set, *p); !m) {
      return make_error(origin + ": [ce] end_user_prefix: " + m.error().message);
    }
    c.end_user_prefix = *p;
  }
  auto filt = get<std::string>(t, "filtering", origin, sec, "endpoint-independent");
  if (!filt) return filt.error();
  if (*filt == "endpoint-independent") c.filtering = Filtering::kEndpointIndependent;
  else if (*filt == "address-dependent") c.filtering = Filtering::kAddressDependent;
  else if (*filt == "address-and-port-dependent") c.filtering = Filtering::kAddressPortDependent;
  else return make_error(origin + ": [ce] filtering must be endpoint-independent, address-dependent "
                                  "or address-and-port-dependent, not \"" + *filt + "\"");
  auto maxs = get<int64_t>(t, "max_sessions", origin, sec, 65536);
  if (!maxs) return maxs.error();
  if (*maxs < 1024 || *maxs > (1 << 24)) {
    return make_error(origin + ": [ce] max_sessions must be 1024..16777216");
  }
  c.max_sessions = static_cast<unsigned>(*maxs);
  auto lim = get<int64_t>(t, "host_session_limit", origin, sec, 0);
  if (!lim) return lim.error();
  if (*lim < 0 || *lim > *maxs) return make_error(origin + ": [ce] host_session_limit must be 0..max_sessions");
  c.host_session_limit = static_cast<unsigned>(*lim);
  auto share = get<int64_t>(t, "host_port_share", origin, sec, 85);
  if (!share) return share.error();
  if (*share < 1 || *share > 100) return make_error(origin + ": [ce] host_port_share must be 1..100 (percent)");
  c.host_port_share = static_cast<unsigned>(*share);
  if (const toml::table* to = t.get_as<toml::table>("timeouts")) {
    auto n = parse_timeouts(*to, origin);
    if (!n) return n.error();
    c.timeouts = *n;
  }
  if (const toml::array* a = t.get_as<toml::array>("static_napt")) {
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string w = origin + ": [[ce.static_napt]] #" + std::to_string(i + 1);
      const toml::table* e = a->get(i)->as_table();
      if (!e) return make_error(w + " is not a table");
      if (auto st = only_keys(*e, {"protocol", "external_port", "internal"}, origin, w); !st) return st.error();
      StaticNaptConfig sn;
      auto proto = get<std::string>(*e, "protocol", origin, w, std::nullopt);
      if (!proto) return proto.error();
      auto pr = parse_proto(*proto, w, false);
      if (!pr) return pr.error();
      if (*pr == 1) return make_error(w + ": static NAPT is for tcp or udp");
      sn.proto = *pr;
      auto ext = get<int64_t>(*e, "external_port", origin, w, std::nullopt);
      if (!ext) return ext.error();
      if (*ext < 1 || *ext > 65535) return make_error(w + ": external_port must be 1..65535");
      sn.external_port = static_cast<uint16_t>(*ext);
      auto in = get<std::string>(*e, "internal", origin, w, std::nullopt);
      if (!in) return in.error();
      auto ep = Ipv4Endpoint::parse(*in);
      if (!ep) return make_error(w + ": internal: " + ep.error().message);
      sn.internal = *ep;
      c.static_napt.push_back(sn);
    }
  }
  if (const toml::array* a = t.get_as<toml::array>("filter")) {
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string w = origin + ": [[ce.filter]] #" + std::to_string(i + 1);
      const toml::table* e = a->get(i)->as_table();
      if (!e) return make_error(w + " is not a table");
      if (auto st = only_keys(*e, {"action", "protocol", "source", "destination", "ports"}, origin, w); !st) {
        return st.error();
      }
      FilterRuleConfig f;
      auto act = get<std::string>(*e, "action", origin, w, std::nullopt);
      if (!act) return act.error();
      if (*act != "deny" && *act != "allow") return make_error(w + ": action must be deny or allow");
      f.deny = *act == "deny";
      auto proto = get<std::string>(*e, "protocol", origin, w, "any");
      if (!proto) return proto.error();
      auto pr = parse_proto(*proto, w, true);
      if (!pr) return pr.error();
      f.proto = *pr;
      for (auto [key, out] : {std::pair{"source", &f.source}, {"destination", &f.destination}}) {
        auto v = get<std::string>(*e, key, origin, w, "0.0.0.0/0");
        if (!v) return v.error();
        auto p = Ipv4Prefix::parse(*v);
        if (!p) return make_error(w + ": " + key + ": " + p.error().message);
        *out = *p;
      }
      auto ports = get<std::string>(*e, "ports", origin, w, "0-65535");
      if (!ports) return ports.error();
      auto range = parse_port_range(*ports, w);
      if (!range) return range.error();
      if ((range->first != 0 || range->second != 65535) && f.proto != 6 && f.proto != 17) {
        return make_error(w + ": ports need protocol tcp or udp");
      }
      f.port_lo = range->first;
      f.port_hi = range->second;
      c.filter.push_back(f);
    }
    if (c.filter.size() > 32) return make_error(origin + ": at most 32 [[ce.filter]] rules");
  }
  if (const toml::table* nl = t.get_as<toml::table>("nat_log")) {
    const std::string w = "[ce.nat_log]";
    if (auto st = only_keys(*nl, {"enabled", "sessions", "destination", "rate_limit"}, origin, w); !st) {
      return st.error();
    }
    auto en = get<bool>(*nl, "enabled", origin, w, false);
    auto ses = get<bool>(*nl, "sessions", origin, w, false);
    auto dest = get<std::string>(*nl, "destination", origin, w, "syslog");
    auto rate = get<int64_t>(*nl, "rate_limit", origin, w, 20000);
    if (!en) return en.error();
    if (!ses) return ses.error();
    if (!dest) return dest.error();
    if (!rate) return rate.error();
    if (*dest != "syslog" && dest->rfind("file:/", 0) != 0) {
      return make_error(origin + ": " + w + " destination must be \"syslog\" or \"file:/path\"");
    }
    if (*rate < 1 || *rate > 10'000'000) return make_error(origin + ": " + w + " rate_limit must be 1..10000000");
    c.nat_log = {*en, *ses, *dest, static_cast<unsigned>(*rate)};
  }
  std::vector<std::string> routes{"0.0.0.0/0"};
  if (const toml::array* a = t.get_as<toml::array>("ipv4_routes")) {
    routes.clear();
    for (size_t i = 0; i < a->size(); ++i) {
      auto v = a->get(i)->value<std::string>();
      if (!v) return make_error(origin + ": [ce] ipv4_routes must be strings");
      routes.push_back(*v);
    }
  }
  for (const auto& r : routes) {
    auto p = Ipv4Prefix::parse(r);
    if (!p) return make_error(origin + ": [ce] ipv4_routes: " + p.error().message);
    c.ipv4_routes.push_back(*p);
  }
  return c;
}

}  // namespace

RuleSet Config::all_rules() const {
  std::vector<MapRule> rules = ce.rules;
  for (const auto& d : br.domains) rules.insert(rules.end(), d.rules.begin(), d.rules.end());
  auto set = RuleSet::create(std::move(rules));
  return set ? *set : RuleSet{};  // parse_config() already proved it unambiguous
}

Result<Config> parse_config(std::string_view text, const std::string& origin) {
  if (auto st = check_toml_text(text, origin); !st) return st.error();
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    return make_error(origin + ":" + std::to_string(s.begin.line) + ":" +
                      std::to_string(s.begin.column) + ": " + std::string(e.description()));
  }
  if (auto st = only_keys(root, {"role", "instance", "socket", "xdp_mode", "log_level", "metrics", "bpffs",
                           "on_stop", "state_dir", "route_cache", "flow_cache_sets", "br", "ce", "sip", "sipvpn", "l2tp"},
                          origin, "the top level");
      !st) {
    return st.error();
  }
  Config c;
  auto role = get<std::string>(root, "role", origin, "the top level", std::nullopt);
  if (!role) return role.error();
  if (*role != "br" && *role != "ce" && *role != "none") {
    return make_error(origin + ": role = \"" + *role + "\" is not a role (\"br\", \"ce\" or \"none\")");
  }
  c.role = *role == "br" ? Role::kBr : *role == "ce" ? Role::kCe : Role::kNone;
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
  auto metrics = get<std::string>(root, "metrics", origin, "the top level", c.metrics);
  if (!metrics) return metrics.error();
  if (!metrics->empty() && (metrics->find('[') != std::string::npos ||
                            metrics->find_first_not_of("0123456789.:") != std::string::npos)) {
    return make_error(origin + ": metrics = \"" + *metrics + "\": expected \"a.b.c.d:port\" (an IPv4 "
                      "address), \"port\" for all addresses, or \"\" to turn metrics off");
  }
  c.metrics = *metrics;
  auto bpffs = get<std::string>(root, "bpffs", origin, "the top level", c.bpffs);
  if (!bpffs) return bpffs.error();
  c.bpffs = *bpffs;
  auto on_stop = get<std::string>(root, "on_stop", origin, "the top level", c.on_stop);
  if (!on_stop) return on_stop.error();
  if (*on_stop != "keep" && *on_stop != "detach") {
    return make_error(origin + ": on_stop must be \"keep\" or \"detach\", not \"" + *on_stop + "\"");
  }
  c.on_stop = *on_stop;
  auto state = get<std::string>(root, "state_dir", origin, "the top level", c.state_dir);
  if (!state) return state.error();
  c.state_dir = *state;
  auto route_cache = get<bool>(root, "route_cache", origin, "the top level", c.route_cache);
  if (!route_cache) return route_cache.error();
  c.route_cache = *route_cache;
  auto sets = get<int64_t>(root, "flow_cache_sets", origin, "the top level", c.flow_cache_sets);
  if (!sets) return sets.error();
  if (*sets < MAPGW_FLOW_CACHE_SETS_MIN || *sets > MAPGW_FLOW_CACHE_SETS_MAX || (*sets & (*sets - 1))) {
    return make_error(origin + ": flow_cache_sets must be a power of two from " +
                      std::to_string(MAPGW_FLOW_CACHE_SETS_MIN) + " to " +
                      std::to_string(MAPGW_FLOW_CACHE_SETS_MAX) + ", not " + std::to_string(*sets));
  }
  c.flow_cache_sets = static_cast<uint32_t>(*sets);
  if (const toml::node* sip = root.get("sip")) {
    const toml::table* st = sip->as_table();
    if (!st) return make_error(where(origin, *sip) + "sip must be a table ([sip])");
    auto parsed = parse_sip_section(*st, origin);
    if (!parsed) return parsed.error();
    c.sip = std::move(*parsed);
  }
  if (const toml::node* vpn = root.get("sipvpn")) {
    const toml::table* vt = vpn->as_table();
    if (!vt) return make_error(where(origin, *vpn) + "sipvpn must be a table ([sipvpn])");
    if (!c.sip) return make_error(origin + ": [sipvpn] needs a [sip] section (its calls carry the tunnels)");
    auto parsed = parse_sipvpn_section(*vt, origin, c.instance, c.state_dir);
    if (!parsed) return parsed.error();
    parsed->vpn.psk = c.sip->psk;
    const auto& caps = c.sip->ua.ike.caps;
    if (caps.password && caps.client && parsed->vpn.eap_user.empty()) {
      return make_error(origin + ": a password-mode client needs eap_user and eap_password in [sipvpn]");
    }
    if (caps.password && caps.server && parsed->vpn.eap_users.empty()) {
      return make_error(origin + ": a password-mode server needs eap_users in [sipvpn]");
    }
    c.sipvpn = std::move(*parsed);
  }
  if (const toml::node* l2 = root.get("l2tp")) {
    const toml::table* lt = l2->as_table();
    if (!lt) return make_error(where(origin, *l2) + "l2tp must be a table ([l2tp])");
    auto parsed = parse_l2tp_section(*lt, origin, c.instance);
    if (!parsed) return parsed.error();
    c.l2tp = std::move(*parsed);
  }
  if (c.sip) {
    const auto& ike = c.sip->ua.ike;
    if (ike.caps.server && ike.caps.password && !ike.cert_fingerprint && !c.sipvpn) {
      return make_error(origin + ": a password-mode server (roles has \"server\", auth has \"password\") "
                        "needs certificate_fingerprint in [sip.ike], or [sipvpn] to make the certificate "
                        "(TS-1017 §4.1.2.5)");
    }
  }
  if (c.role == Role::kNone) {
    if (root.get("br") || root.get("ce")) {
      return make_error(origin + ": role = \"none\" takes no [br] or [ce] section");
    }
    if (!c.sip && !c.l2tp) return make_error(origin + ": role = \"none\" needs a service: [sip] or [l2tp]");
    return c;
  }
  if (c.role == Role::kCe) {
    if (root.get("br")) return make_error(origin + ": role = \"ce\" takes a [ce] section, not [br]");
    const toml::table* ce = root.get_as<toml::table>("ce");
    if (!ce) return make_error(origin + ": role = \"ce\" needs a [ce] section");
    auto cc = parse_ce(*ce, origin);
    if (!cc) return cc.error();
    c.ce = std::move(*cc);
    return c;
  }
  if (root.get("ce")) return make_error(origin + ": role = \"br\" takes a [br] section, not [ce]");
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
