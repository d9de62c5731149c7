#include "agent/map/dhcpv6_mape.h"

#include <cstdio>

namespace mapgw {
namespace {

struct Option {
  uint16_t code;
  size_t offset;  // of the option header within the buffer being walked
  std::span<const uint8_t> data;
};

std::string option_name(uint16_t code) {
  switch (code) {
    case kOptS46Rule:
      return "OPTION_S46_RULE (89)";
    case kOptS46Br:
      return "OPTION_S46_BR (90)";
    case kOptS46Dmr:
      return "OPTION_S46_DMR (91)";
    case kOptS46V4V6Bind:
      return "OPTION_S46_V4V6BIND (92)";
    case kOptS46PortParams:
      return "OPTION_S46_PORTPARAMS (93)";
    case kOptS46ContMapE:
      return "OPTION_S46_CONT_MAPE (94)";
    case kOptS46ContMapT:
      return "OPTION_S46_CONT_MAPT (95)";
    case kOptS46ContLw:
      return "OPTION_S46_CONT_LW (96)";
    default:
      return "option " + std::to_string(code);
  }
}

// Split a buffer into DHCPv6 options; @where names the buffer in errors.
Result<std::vector<Option>> split_options(std::span<const uint8_t> buf, size_t base,
                                          const std::string& where) {
  std::vector<Option> out;
  size_t pos = 0;
  while (pos < buf.size()) {
    if (buf.size() - pos < 4) {
      return make_error(where + ": truncated option header at byte " + std::to_string(base + pos) +
                        " (" + std::to_string(buf.size() - pos) + " bytes left, need 4)");
    }
    uint16_t code = static_cast<uint16_t>(buf[pos] << 8 | buf[pos + 1]);
    size_t len = static_cast<size_t>(buf[pos + 2] << 8 | buf[pos + 3]);
    if (len > buf.size() - pos - 4) {
      return make_error(where + ": " + option_name(code) + " at byte " +
                        std::to_string(base + pos) + " claims " + std::to_string(len) +
                        " bytes but only " + std::to_string(buf.size() - pos - 4) + " remain");
    }
    out.push_back({code, base + pos, buf.subspan(pos + 4, len)});
    pos += 4 + len;
  }
  return out;
}

std::string hex_byte(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", v & 0xff);
  return b;
}

struct PortParams {
  unsigned offset;
  unsigned psid_len;
  uint16_t psid_field;  // left-aligned as on the wire
};

Result<PortParams> parse_portparams(const Option& o, const std::string& where) {
  if (o.data.size() != 4) {
    return make_error(where + ": OPTION_S46_PORTPARAMS must be 4 bytes long, not " +
                      std::to_string(o.data.size()));
  }
  PortParams pp{o.data[0], o.data[1], static_cast<uint16_t>(o.data[2] << 8 | o.data[3])};
  if (pp.offset > 15) {
    return make_error(where + ": PORTPARAMS offset " + std::to_string(pp.offset) +
                      " is out of range 0..15");
  }
  if (pp.psid_len > 16) {
    return make_error(where + ": PORTPARAMS PSID-len " + std::to_string(pp.psid_len) +
                      " is more than 16");
  }
  return pp;
}

Result<MapRule> parse_rule(const Option& o, const std::string& where,
                           std::vector<std::string>& ignored) {
  auto d = o.data;
  if (d.size() < 8) {
    return make_error(where + ": OPTION_S46_RULE is " + std::to_string(d.size()) +
                      " bytes, the fixed part alone is 8");
  }
  const uint8_t flags = d[0], ea_len = d[1], prefix4_len = d[2], prefix6_len = d[7];
  if (prefix4_len > 32) {
    return make_error(where + ": prefix4-len " + std::to_string(prefix4_len) + " is more than 32");
  }
  if (prefix6_len > 128) {
    return make_error(where + ": prefix6-len " + std::to_string(prefix6_len) +
                      " is more than 128");
  }
  const size_t p6_bytes = (prefix6_len + 7) / 8;
  if (d.size() < 8 + p6_bytes) {
    return make_error(where + ": prefix6-len " + std::to_string(prefix6_len) + " needs " +
                      std::to_string(p6_bytes) + " prefix bytes, only " +
                      std::to_string(d.size() - 8) + " present");
  }
  if (flags & ~0x01) {
    ignored.push_back(where + ": reserved flag bits " + hex_byte(flags & ~0x01) + " ignored");
  }
  RuleSpec spec;
  spec.fmr = flags & 0x01;
  spec.ea_len = ea_len;
  uint32_t v4 = static_cast<uint32_t>(d[3]) << 24 | d[4] << 16 | d[5] << 8 | d[6];
  uint32_t v4_masked = v4 & mapgw_top_mask32(prefix4_len);
  if (v4 != v4_masked) {
    ignored.push_back(where + ": ipv4-prefix bits after /" + std::to_string(prefix4_len) +
                      " were set; cleared");
  }
  spec.ipv4 = Ipv4Prefix{Ipv4Addr{v4_masked}, prefix4_len};
  uint8_t b6[16] = {};
  for (size_t i = 0; i < p6_bytes; ++i) b6[i] = d[8 + i];
  Ipv6Addr raw6 = Ipv6Addr::from_bytes(b6), masked6;
  mapgw_u128_copy_prefix(&masked6.value, &raw6.value, prefix6_len);
  if (!(raw6 == masked6)) {
    ignored.push_back(where + ": ipv6-prefix padding bits after /" + std::to_string(prefix6_len) +
                      " were set; cleared");
  }
  spec.ipv6 = Ipv6Prefix{masked6, prefix6_len};

  auto subs = split_options(d.subspan(8 + p6_bytes), 0, where + " options");
  if (!subs) return subs.error();
  bool have_pp = false;
  for (const auto& s : *subs) {
    if (s.code != kOptS46PortParams) {
      ignored.push_back(where + ": " + option_name(s.code) + " inside a rule is not used");
      continue;
    }
    if (have_pp) {
      ignored.push_back(where + ": second OPTION_S46_PORTPARAMS ignored");
      continue;
    }
    auto pp = parse_portparams(s, where);
    if (!pp) return pp.error();
    have_pp = true;
    spec.psid_offset = pp->offset;
    if (pp->psid_len == 0) {
      if (pp->psid_field) ignored.push_back(where + ": PSID field ignored (PSID-len 0)");
      continue;
    }
    spec.psid_len = pp->psid_len;
    const uint16_t psid = static_cast<uint16_t>(pp->psid_field >> (16 - pp->psid_len));
    if (static_cast<uint16_t>(pp->psid_field << pp->psid_len) != 0) {
      ignored.push_back(where + ": PSID bits after the first " + std::to_string(pp->psid_len) +
                        " (left-aligned) were set; cleared");
    }
    if (ea_len + prefix4_len > 32) {
      // The EA bits carry the PSID; the explicit one can only agree or be 0.
      if (psid != 0) ignored.push_back(where + ": explicit PSID ignored, the EA bits carry it");
    } else {
      spec.psid = psid;
    }
  }
  auto rule = MapRule::create(spec);
  if (!rule) return make_error(where + ": " + rule.error().message);
  return rule;
}

}  // namespace

Result<MapEProvisioning> parse_dhcpv6_mape(std::span<const uint8_t> buf) {
  if (buf.empty()) return make_error("empty DHCPv6 option buffer");
  auto top = split_options(buf, 0, "DHCPv6 options");
  if (!top) return top.error();

  MapEProvisioning out;
  const Option* container = nullptr;
  for (const auto& o : *top) {
    if (o.code != kOptS46ContMapE) {
      out.ignored.push_back(option_name(o.code) + " at byte " + std::to_string(o.offset) +
                            ": not OPTION_S46_CONT_MAPE");
    } else if (container) {
      out.ignored.push_back("OPTION_S46_CONT_MAPE at byte " + std::to_string(o.offset) +
                            ": only the first MAP-E container is used");
    } else {
      container = &o;
    }
  }
  if (!container) return make_error("no OPTION_S46_CONT_MAPE (94) in the DHCPv6 options");

  auto inner = split_options(container->data, container->offset + 4, "OPTION_S46_CONT_MAPE");
  if (!inner) return inner.error();
  std::vector<MapRule> rules;
  for (const auto& o : *inner) {
    const std::string where = option_name(o.code) + " at byte " + std::to_string(o.offset);
    switch (o.code) {
      case kOptS46Rule: {
        auto r = parse_rule(o, "rule " + std::to_string(rules.size() + 1) + " (byte " +
                                   std::to_string(o.offset) + ")",
                            out.ignored);
        if (!r) return r.error();
        rules.push_back(std::move(*r));
        break;
      }
      case kOptS46Br:
        if (o.data.size() != 16) {
          return make_error(where + ": must be 16 bytes (an IPv6 address), not " +
                            std::to_string(o.data.size()));
        }
        out.brs.push_back(Ipv6Addr::from_bytes(o.data.data()));
        break;
      case kOptS46PortParams:
        out.ignored.push_back(where + ": belongs inside OPTION_S46_RULE, not the container");
        break;
      case kOptS46Dmr:
        out.ignored.push_back(where + ": the DMR is for MAP-T, not MAP-E");
        break;
      default:
        out.ignored.push_back(where + ": not used by MAP-E");
    }
  }
  // RFC 7598 §5.1: the MAP-E container carries at least one rule and at
  // least one BR address; without either the CE cannot work.
  if (rules.empty()) return make_error("OPTION_S46_CONT_MAPE has no OPTION_S46_RULE (89)");
  if (out.brs.empty()) return make_error("OPTION_S46_CONT_MAPE has no OPTION_S46_BR (90)");
  auto set = RuleSet::create(rules);
  if (!set) return make_error("OPTION_S46_CONT_MAPE: " + set.error().message);
  out.rules = std::move(rules);
  return out;
}

Result<std::vector<uint8_t>> parse_hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':' || c == ' ' || c == '\n' || c == '\t') {
      if (hi >= 0) return make_error("hex: odd digit before separator at position " + std::to_string(i));
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return make_error("hex: '" + std::string(1, c) + "' at position " + std::to_string(i) + " is not a hex digit");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) return make_error("hex: odd number of digits");
  if (out.empty()) return make_error("hex: no bytes");
  return out;
}

}  // namespace mapgw
