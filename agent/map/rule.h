// A MAP-E mapping rule (RFC 7597 §5): how it is written, how it is checked,
// and the validated form that feeds both the agent and the BPF maps.
//
// Rules come from several sources (config file, `mapgwctl calc --rule`,
// RFC 7598 DHCPv6 options, a VNE rule server); they all become a RuleSpec
// and go through MapRule::create(), the one place where rules are validated.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"
#include "agent/net/ip.h"
#include "map_math.h"

namespace mapgw {

inline constexpr unsigned kDefaultPsidOffset = 6;  // RFC 7597 §5.1
inline constexpr unsigned kMaxEaLen = 48;          // RFC 7598 §4.1

// A rule as written, before validation.
struct RuleSpec {
  Ipv6Prefix ipv6;
  Ipv4Prefix ipv4;
  unsigned ea_len = 0;
  unsigned psid_offset = kDefaultPsidOffset;
  std::optional<unsigned> psid_len;  // explicit k (must agree with EA bits)
  std::optional<unsigned> psid;      // provisioned PSID, right-aligned
  bool fmr = false;
  bool legacy_iid = false;

  // "ipv6=P6,ipv4=P4,ea=N[,offset=A][,psidlen=K][,psid=P][,fmr]"
  static Result<RuleSpec> parse(std::string_view text);
};

// A validated rule. Immutable; cheap to copy.
class MapRule {
 public:
  static Result<MapRule> create(const RuleSpec& spec);
  static Result<MapRule> parse(std::string_view text);

  const mapgw_rule& raw() const { return raw_; }
  const Ipv6Prefix& ipv6_prefix() const { return ipv6_; }
  const Ipv4Prefix& ipv4_prefix() const { return ipv4_; }
  unsigned ea_len() const { return raw_.ea_len; }
  unsigned psid_offset() const { return raw_.psid_offset; }
  unsigned psid_len() const { return raw_.psid_len; }  // effective k
  // The provisioned PSID when the EA bits carry none (RFC 7597 App. A Ex. 5).
  std::optional<uint16_t> provisioned_psid() const;
  bool fmr() const { return raw_.flags & MAPGW_RULE_F_FMR; }
  bool legacy_iid() const { return raw_.flags & MAPGW_RULE_F_LEGACY_IID; }
  // True when the PSID is taken from the EA bits (o + r > 32).
  bool psid_in_ea() const { return raw_.ea_len + raw_.ipv4_len > 32; }
  // Length of the End-user prefix part the rule defines: n + o.
  unsigned end_user_len() const { return raw_.ipv6_len + raw_.ea_len; }

  // Canonical text form, parseable by MapRule::parse.
  std::string str() const;

 private:
  mapgw_rule raw_{};
  Ipv6Prefix ipv6_;
  Ipv4Prefix ipv4_;
};

// Several rules of one MAP domain (or several domains), checked for
// ambiguity, with the longest-match lookups RFC 7597 prescribes.
class RuleSet {
 public:
  static Result<RuleSet> create(std::vector<MapRule> rules);

  const std::vector<MapRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

  // BMR selection: the rule whose IPv6 prefix is the longest match of the
  // End-user prefix.
  const MapRule* match_end_user(const Ipv6Prefix& prefix) const;
  // Longest match of an IPv6 address (BR receive side, RFC 7597 §8.1).
  const MapRule* match_ipv6(const Ipv6Addr& addr) const;
  // Longest match of an IPv4 destination (FMR lookup, RFC 7597 §5.3).
  const MapRule* match_ipv4(Ipv4Addr addr, bool fmr_only = false) const;

 private:
  std::vector<MapRule> rules_;
};

}  // namespace mapgw
