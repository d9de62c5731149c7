#include "agent/map/mapping.h"

#include <cstdio>

namespace mapgw {
namespace {

std::string hex16(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

std::string endpoint_str(const Ipv4Endpoint& e) {
  return e.addr.str() + ":" + std::to_string(e.port);
}

}  // namespace

const char* map_status_name(mapgw_map_status status) {
  switch (status) {
    case MAPGW_MAP_OK:
      return "ok";
    case MAPGW_MAP_EXCLUDED_PORT:
      return "excluded_port";
    case MAPGW_MAP_WRONG_PSID:
      return "wrong_psid";
    case MAPGW_MAP_ADDR_OUTSIDE_RULE:
      return "addr_outside_rule";
    case MAPGW_MAP_NOT_CE_ADDRESS:
      return "not_ce_address";
  }
  return "unknown";
}

Result<CeMapping> derive_ce(const RuleSet& rules, const Ipv6Prefix& eup) {
  const MapRule* rule = rules.match_end_user(eup);
  if (!rule) {
    return make_error("End-user prefix " + eup.str() + " is outside every rule's IPv6 prefix");
  }
  if (eup.len < rule->end_user_len()) {
    return make_error("End-user prefix " + eup.str() + " is shorter than the rule's IPv6 prefix /" +
                      std::to_string(rule->ipv6_prefix().len) + " plus ea=" +
                      std::to_string(rule->ea_len()) + " (= /" +
                      std::to_string(rule->end_user_len()) + "): not all EA bits are known");
  }
  const mapgw_rule& raw = rule->raw();
  uint32_t ipv4 = 0;
  uint16_t psid = 0;
  mapgw_rule_decode(&raw, &eup.addr.value, &ipv4, &psid);

  CeMapping m{*rule, eup, Ipv4Addr{ipv4}, mapgw_rule_ce_ipv4_len(&raw), std::nullopt,
              PortSet(raw.psid_offset, raw.psid_len, psid), Ipv6Addr{}};
  if (raw.psid_len > 0) m.psid = psid;
  mapgw_rule_ce_address(&raw, ipv4, psid, &m.ce_address.value);
  // Bits of a longer End-user prefix beyond n + o are the CE's own (subnet
  // ID, or the top of the IID when the prefix is longer than /64, §6).
  mapgw_u128_copy_prefix(&m.ce_address.value, &eup.addr.value, eup.len);
  return m;
}

BrLookup br_lookup(const RuleSet& rules, const Ipv4Endpoint& dst) {
  BrLookup out;
  out.rule = rules.match_ipv4(dst.addr);
  if (!out.rule) {
    out.reason = "no_rule";
    out.detail = "no rule's IPv4 prefix contains " + dst.addr.str();
    return out;
  }
  const mapgw_rule& raw = out.rule->raw();
  Ipv6Addr ce;
  uint16_t psid = 0;
  auto st = mapgw_rule_br_lookup(&raw, dst.addr.value, dst.port, &ce.value, &psid);
  if (st != MAPGW_MAP_OK) {
    out.reason = map_status_name(st);
    if (st == MAPGW_MAP_EXCLUDED_PORT) {
      out.detail = "port " + std::to_string(dst.port) + " is below " +
                   std::to_string(1u << (16 - raw.psid_offset)) +
                   " (A = 0), which no port set contains";
    } else {
      out.detail = "port " + std::to_string(dst.port) + " belongs to PSID " +
                   hex16(mapgw_port_psid(raw.psid_offset, raw.psid_len, dst.port)) +
                   ", the rule's CE has PSID " + hex16(raw.psid);
    }
    return out;
  }
  out.encapsulate = true;
  out.reason = "ok";
  out.ce_address = ce;
  if (raw.psid_len > 0) out.psid = psid;
  Ipv6Prefix eup{ce, static_cast<uint8_t>(out.rule->end_user_len())};
  mapgw_u128 prefix_only{};
  mapgw_u128_copy_prefix(&prefix_only, &ce.value, eup.len);
  eup.addr.value = prefix_only;
  out.end_user_prefix = eup;
  out.detail = endpoint_str(dst) + " belongs to the CE at " + ce.str();
  return out;
}

SourceCheck check_source(const RuleSet& rules, const Ipv6Addr& outer, const Ipv4Endpoint& inner) {
  SourceCheck out;
  out.rule = rules.match_ipv6(outer);
  if (!out.rule) {
    out.reason = "no_rule";
    out.detail = "no rule's IPv6 prefix contains " + outer.str();
    return out;
  }
  const mapgw_rule& raw = out.rule->raw();
  auto st = mapgw_rule_check_source(&raw, &outer.value, inner.addr.value, inner.port);
  out.reason = map_status_name(st);
  out.accept = st == MAPGW_MAP_OK;
  uint32_t ipv4 = 0;
  uint16_t psid = 0;
  mapgw_rule_decode(&raw, &outer.value, &ipv4, &psid);
  const std::string owner =
      outer.str() + " owns " + Ipv4Addr{ipv4}.str() +
      (mapgw_rule_ce_ipv4_len(&raw) < 32 ? "/" + std::to_string(mapgw_rule_ce_ipv4_len(&raw))
                                         : std::string()) +
      (raw.psid_len ? " PSID " + hex16(psid) : std::string());
  switch (st) {
    case MAPGW_MAP_OK:
      out.detail = owner + "; " + endpoint_str(inner) + " is inside it";
      break;
    case MAPGW_MAP_ADDR_OUTSIDE_RULE:
      out.detail = owner + ", not " + inner.addr.str();
      break;
    case MAPGW_MAP_EXCLUDED_PORT:
      out.detail = "port " + std::to_string(inner.port) + " is below " +
                   std::to_string(1u << (16 - raw.psid_offset)) + " (A = 0)";
      break;
    case MAPGW_MAP_WRONG_PSID:
      out.detail = owner + "; port " + std::to_string(inner.port) + " has PSID " +
                   hex16(mapgw_port_psid(raw.psid_offset, raw.psid_len, inner.port));
      break;
    case MAPGW_MAP_NOT_CE_ADDRESS: {
      Ipv6Addr expect;
      mapgw_rule_ce_address(&raw, inner.addr.value, psid, &expect.value);
      out.detail = "the CE address for " + endpoint_str(inner) + " is " + expect.str() + ", not " +
                   outer.str();
      break;
    }
  }
  return out;
}

}  // namespace mapgw
