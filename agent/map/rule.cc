#include "agent/map/rule.h"

#include <charconv>
#include <set>

namespace mapgw {
namespace {

Result<unsigned> parse_uint(std::string_view key, std::string_view text, unsigned max) {
  unsigned v = 0;
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || v > max) {
    return make_error(std::string(key) + "=" + std::string(text) + ": expected an integer 0.." +
                      std::to_string(max));
  }
  return v;
}

}  // namespace

Result<RuleSpec> RuleSpec::parse(std::string_view text) {
  RuleSpec spec;
  std::set<std::string> seen;
  bool have_ipv6 = false, have_ipv4 = false, have_ea = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) {
      if (comma == text.size()) break;
      return make_error("empty item in rule '" + std::string(text) + "'");
    }
    auto eq = item.find('=');
    std::string key(item.substr(0, eq));
    std::string_view val = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    if (!seen.insert(key).second) return make_error("rule key '" + key + "' given twice");
    if (key != "fmr" && eq == std::string_view::npos) {
      return make_error("rule key '" + key + "' needs a value (" + key + "=...)");
    }
    if (key == "ipv6") {
      auto p = Ipv6Prefix::parse(val);
      if (!p) return make_error("ipv6=: " + p.error().message);
      spec.ipv6 = *p;
      have_ipv6 = true;
    } else if (key == "ipv4") {
      auto p = Ipv4Prefix::parse(val);
      if (!p) return make_error("ipv4=: " + p.error().message);
      spec.ipv4 = *p;
      have_ipv4 = true;
    } else if (key == "ea") {
      auto v = parse_uint(key, val, 128);
      if (!v) return v.error();
      spec.ea_len = *v;
      have_ea = true;
    } else if (key == "offset") {
      auto v = parse_uint(key, val, 16);
      if (!v) return v.error();
      spec.psid_offset = *v;
    } else if (key == "psidlen") {
      auto v = parse_uint(key, val, 16);
      if (!v) return v.error();
      spec.psid_len = *v;
    } else if (key == "psid") {
      auto v = parse_uint(key, val, 65535);
      if (!v) return v.error();
      spec.psid = *v;
    } else if (key == "fmr") {
      if (!val.empty() && val != "1" && val != "true" && val != "yes") {
        return make_error("fmr takes no value (or fmr=true)");
      }
      spec.fmr = true;
    } else {
      return make_error("unknown rule key '" + key +
                        "' (expected ipv6, ipv4, ea, offset, psidlen, psid, fmr)");
    }
  }
  if (!have_ipv6) return make_error("rule '" + std::string(text) + "' lacks ipv6=PREFIX");
  if (!have_ipv4) return make_error("rule '" + std::string(text) + "' lacks ipv4=PREFIX");
  if (!have_ea) return make_error("rule '" + std::string(text) + "' lacks ea=BITS");
  return spec;
}

Result<MapRule> MapRule::create(const RuleSpec& s) {
  const unsigned n = s.ipv6.len, r = s.ipv4.len, o = s.ea_len, a = s.psid_offset;
  if (o > kMaxEaLen) {
    return make_error("ea=" + std::to_string(o) + ": the EA-bits length must be 0.." +
                      std::to_string(kMaxEaLen) + " (RFC 7598 §4.1)");
  }
  if (n + o > 128) {
    return make_error("ipv6 prefix /" + std::to_string(n) + " plus ea=" + std::to_string(o) +
                      " is " + std::to_string(n + o) + " bits, more than an IPv6 address");
  }
  if (a > 15) {
    return make_error("offset=" + std::to_string(a) + ": the PSID offset must be 0..15");
  }
  const unsigned p = 32 - r;
  unsigned k = 0;
  std::optional<uint16_t> provisioned;
  if (o + r > 32) {
    k = o - p;
    if (k > 16) {
      return make_error("ea=" + std::to_string(o) + " with ipv4 /" + std::to_string(r) +
                        " leaves a " + std::to_string(k) +
                        "-bit PSID (o - p); a PSID has at most 16 bits");
    }
    if (s.psid_len && *s.psid_len != k) {
      return make_error("psidlen=" + std::to_string(*s.psid_len) +
                        " contradicts the EA bits: ea=" + std::to_string(o) + " minus the " +
                        std::to_string(p) + " IPv4 suffix bits leaves a " + std::to_string(k) +
                        "-bit PSID");
    }
    if (s.psid) {
      return make_error("psid= cannot be given: with ea=" + std::to_string(o) + " and ipv4 /" +
                        std::to_string(r) + " the PSID comes from the EA bits");
    }
  } else if (o + r < 32) {
    if (s.psid_len.value_or(0) != 0 || s.psid) {
      return make_error("psidlen=/psid= are not allowed: ipv4 /" + std::to_string(r) +
                        " with ea=" + std::to_string(o) + " gives each CE an IPv4 prefix (/" +
                        std::to_string(o + r) + "), which is not shared by port");
    }
  } else {  // o + r == 32: a full IPv4 address; a PSID can only be provisioned
    k = s.psid_len.value_or(0);
    if (k > 0 && !s.psid) {
      return make_error("psidlen=" + std::to_string(k) +
                        " needs psid=: the EA bits carry no PSID for a full IPv4 address");
    }
    if (k == 0 && s.psid) return make_error("psid= needs psidlen= (the PSID length)");
    if (s.psid && *s.psid >= (1u << k)) {
      return make_error("psid=" + std::to_string(*s.psid) + " does not fit in psidlen=" +
                        std::to_string(k) + " bits (max " + std::to_string((1u << k) - 1) + ")");
    }
    if (k > 0) provisioned = static_cast<uint16_t>(*s.psid);
  }
  if (a + k > 16) {
    return make_error("offset=" + std::to_string(a) + " plus PSID length " + std::to_string(k) +
                      " is " + std::to_string(a + k) + " bits, more than the 16-bit port");
  }

  MapRule rule;
  rule.ipv6_ = s.ipv6;
  rule.ipv4_ = s.ipv4;
  rule.raw_.ipv6_prefix = s.ipv6.addr.value;
  rule.raw_.ipv4_prefix = s.ipv4.addr.value;
  rule.raw_.ipv6_len = static_cast<uint8_t>(n);
  rule.raw_.ipv4_len = static_cast<uint8_t>(r);
  rule.raw_.ea_len = static_cast<uint8_t>(o);
  rule.raw_.psid_offset = static_cast<uint8_t>(a);
  rule.raw_.psid_len = static_cast<uint8_t>(k);
  if (s.fmr) rule.raw_.flags |= MAPGW_RULE_F_FMR;
  if (s.legacy_iid) rule.raw_.flags |= MAPGW_RULE_F_LEGACY_IID;
  if (provisioned) {
    rule.raw_.flags |= MAPGW_RULE_F_PSID_PROVISIONED;
    rule.raw_.psid = *provisioned;
  }
  return rule;
}

Result<MapRule> MapRule::parse(std::string_view text) {
  auto spec = RuleSpec::parse(text);
  if (!spec) return spec.error();
  return create(*spec);
}

std::optional<uint16_t> MapRule::provisioned_psid() const {
  if (raw_.flags & MAPGW_RULE_F_PSID_PROVISIONED) return raw_.psid;
  return std::nullopt;
}

std::string MapRule::str() const {
  std::string s = "ipv6=" + ipv6_.str() + ",ipv4=" + ipv4_.str() +
                  ",ea=" + std::to_string(raw_.ea_len) +
                  ",offset=" + std::to_string(raw_.psid_offset);
  if (!psid_in_ea() && raw_.psid_len > 0) s += ",psidlen=" + std::to_string(raw_.psid_len);
  if (auto p = provisioned_psid()) s += ",psid=" + std::to_string(*p);
  if (fmr()) s += ",fmr";
  return s;
}

Result<RuleSet> RuleSet::create(std::vector<MapRule> rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = i + 1; j < rules.size(); ++j) {
      const auto &x = rules[i], &y = rules[j];
      if (x.ipv4_prefix() == y.ipv4_prefix()) {
        return make_error("rules " + std::to_string(i + 1) + " and " + std::to_string(j + 1) +
                          " share the IPv4 prefix " + x.ipv4_prefix().str() +
                          ": an IPv4 destination would map to two CEs");
      }
      if (x.ipv6_prefix() == y.ipv6_prefix()) {
        return make_error("rules " + std::to_string(i + 1) + " and " + std::to_string(j + 1) +
                          " share the IPv6 prefix " + x.ipv6_prefix().str() +
                          ": a CE address would decode two ways");
      }
    }
  }
  RuleSet set;
  set.rules_ = std::move(rules);
  return set;
}

// Longest match: among rules whose prefix (chosen by @prefix_of) satisfies
// @covers, the one with the longest prefix.
template <typename PrefixOf, typename Covers>
const MapRule* longest_match(const std::vector<MapRule>& rules, PrefixOf prefix_of,
                             Covers covers) {
  const MapRule* best = nullptr;
  for (const auto& r : rules) {
    if (covers(r) && (!best || prefix_of(r).len > prefix_of(*best).len)) best = &r;
  }
  return best;
}

const MapRule* RuleSet::match_end_user(const Ipv6Prefix& prefix) const {
  return longest_match(
      rules_, [](const MapRule& r) { return r.ipv6_prefix(); },
      [&](const MapRule& r) { return r.ipv6_prefix().contains(prefix); });
}

const MapRule* RuleSet::match_ipv6(const Ipv6Addr& addr) const {
  return longest_match(
      rules_, [](const MapRule& r) { return r.ipv6_prefix(); },
      [&](const MapRule& r) { return r.ipv6_prefix().contains(addr); });
}

const MapRule* RuleSet::match_ipv4(Ipv4Addr addr, bool fmr_only) const {
  return longest_match(
      rules_, [](const MapRule& r) { return r.ipv4_prefix(); },
      [&](const MapRule& r) { return (!fmr_only || r.fmr()) && r.ipv4_prefix().contains(addr); });
}

}  // namespace mapgw
