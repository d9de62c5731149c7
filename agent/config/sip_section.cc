#include "agent/config/sip_section.h"

#include <osipparser2/osip_uri.h>

#include <algorithm>
#include <charconv>

#include "agent/config/toml_read.h"

namespace mapgw {
namespace {

const char* kSection = "[sip]";
const char* kIkeSection = "[sip.ike]";

bool is_sip_uri(const std::string& text, bool need_user) {
  osip_uri_t* uri = nullptr;
  osip_uri_init(&uri);
  const bool ok = osip_uri_parse(uri, text.c_str()) == 0 && uri->scheme &&
                  (std::string(uri->scheme) == "sip" || std::string(uri->scheme) == "sips") &&
                  uri->host && (!need_user || uri->username);
  osip_uri_free(uri);
  return ok;
}

template <typename T>
Status read_uint(const toml::table& t, const char* key, const std::string& origin,
                 const char* section, T& out, uint64_t lo, uint64_t hi) {
  auto v = get<int64_t>(t, key, origin, section, static_cast<int64_t>(out));
  if (!v) return v.error();
  if (*v < static_cast<int64_t>(lo) || static_cast<uint64_t>(*v) > hi) {
    return make_error(origin + ": " + key + " in " + section + " must be " + std::to_string(lo) +
                      ".." + std::to_string(hi) + ", not " + std::to_string(*v));
  }
  out = static_cast<T>(*v);
  return Status::Ok();
}

Result<std::vector<std::string>> string_list(const toml::table& t, const char* key,
                                             const std::string& origin, const char* section,
                                             std::vector<std::string> fallback) {
  const toml::node* n = t.get(key);
  if (!n) return fallback;
  const toml::array* a = n->as_array();
  if (!a) return make_error(where(origin, *n) + "'" + key + "' in " + section + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return make_error(where(origin, e) + "'" + key + "' in " + section + " must be a list of strings");
    out.push_back(*s);
  }
  return out;
}

Status parse_ike(const toml::table& t, const std::string& origin, SipConfig& c) {
  if (auto st = only_keys(t, {"address", "port", "roles", "auth", "certificate_fingerprint", "psk",
                              "bandwidth_kbps"},
                          origin, kIkeSection);
      !st) {
    return st;
  }
  sip::LocalIkeConfig& ike = c.ua.ike;
  auto addr = get<std::string>(t, "address", origin, kIkeSection, std::string());
  if (!addr) return addr.error();
  if (!addr->empty() && !sip::Endpoint::parse(*addr, 0)) {
    return make_error(origin + ": address in [sip.ike] must be a numeric IPv6 or IPv4 address");
  }
  ike.address = *addr;
  if (auto st = read_uint(t, "port", origin, kIkeSection, ike.port, 1, 65535); !st) return st;
  auto roles = string_list(t, "roles", origin, kIkeSection, {"client"});
  if (!roles) return roles.error();
  ike.caps.client = ike.caps.server = false;
  for (const auto& r : *roles) {
    if (r == "client") ike.caps.client = true;
    else if (r == "server") ike.caps.server = true;
    else return make_error(origin + ": roles in [sip.ike] takes \"client\" and \"server\", not \"" + r + "\"");
  }
  if (!ike.caps.client && !ike.caps.server) return make_error(origin + ": roles in [sip.ike] is empty");
  auto auth = string_list(t, "auth", origin, kIkeSection, {"password"});
  if (!auth) return auth.error();
  ike.caps.password = ike.caps.psk = false;
  for (const auto& a : *auth) {
    if (a == "password") ike.caps.password = true;
    else if (a == "psk") ike.caps.psk = true;
    else return make_error(origin + ": auth in [sip.ike] takes \"password\" and \"psk\", not \"" + a + "\"");
  }
  if (!ike.caps.password && !ike.caps.psk) return make_error(origin + ": auth in [sip.ike] is empty");
  auto fp = get<std::string>(t, "certificate_fingerprint", origin, kIkeSection, std::string());
  if (!fp) return fp.error();
  if (!fp->empty()) {
    auto parsed = sip::parse_fingerprint(*fp);
    if (!parsed) return make_error(origin + ": certificate_fingerprint in [sip.ike]: " + parsed.error().message);
    ike.cert_fingerprint = *parsed;
  }
  auto psk = get<std::string>(t, "psk", origin, kIkeSection, std::string());
  if (!psk) return psk.error();
  c.psk = *psk;
  if (ike.caps.psk && c.psk.empty()) {
    return make_error(origin + ": auth has \"psk\": [sip.ike] needs psk");
  }
  if (!c.psk.empty()) {
    ike.psk_fingerprint = sip::sha1_fingerprint(c.psk);
    // An offer naming another PSK is refused (unknown_psk, TS-1017 §3.4.2).
    ike.caps.known_psks = {*ike.psk_fingerprint};
  }
  if (t.get("bandwidth_kbps")) {
    uint32_t bw = 0;
    if (auto st = read_uint(t, "bandwidth_kbps", origin, kIkeSection, bw, 1, 100000000); !st) return st;
    ike.bandwidth_kbps = bw;
  }
  return Status::Ok();
}

}  // namespace

bool SipConfig::operator==(const SipConfig& o) const {
  // The parts that need a new user agent when they change.
  auto key = [](const SipConfig& c) {
    const auto& u = c.ua;
    return std::make_tuple(u.aor, u.display_name, u.auth_user, u.password, u.registrar,
                           u.register_expires, u.register_retry_min.count(), u.register_retry_max.count(),
                           u.timers.session_expires, u.timers.min_se, static_cast<int>(u.timers.refresher),
                           u.answer_delay.count(), u.max_calls, u.max_requests_per_second, u.user_agent,
                           u.ike.address, u.ike.port, u.ike.caps.client, u.ike.caps.server,
                           u.ike.caps.password, u.ike.caps.psk,
                           u.ike.cert_fingerprint ? u.ike.cert_fingerprint->str() : "",
                           u.ike.bandwidth_kbps.value_or(0), c.outbound_proxy, c.listen, c.psk);
  };
  return key(*this) == key(o);
}

Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& text) {
  std::string host = text, port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return make_error("'" + text + "': no ']'");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return make_error("'" + text + "': expected ':' after ']'");
      port_text = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port_text = text.substr(text.find(':') + 1);
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    return make_error("'" + text + "': an IPv6 address with a port goes in brackets: [addr]:port");
  }
  if (host.empty()) return make_error("'" + text + "': no host");
  uint16_t port = 5060;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || v > 65535) {
      return make_error("'" + text + "': port is not 0..65535");
    }
    port = static_cast<uint16_t>(v);
  }
  return std::make_pair(host, port);
}

Result<SipConfig> parse_sip_section(const toml::table& t, const std::string& origin) {
  if (auto st = only_keys(t, {"aor", "display_name", "user", "password", "registrar", "outbound_proxy",
                              "listen", "register_expires", "register_retry_min", "register_retry_max",
                              "session_expires", "min_se", "refresher", "answer_delay_ms", "max_calls",
                              "max_requests_per_second", "user_agent", "ike"},
                          origin, kSection);
      !st) {
    return st.error();
  }
  SipConfig c;
  sip::UaConfig& u = c.ua;
  auto aor = get<std::string>(t, "aor", origin, kSection, std::nullopt);
  if (!aor) return aor.error();
  if (!is_sip_uri(*aor, true)) {
    return make_error(origin + ": aor in [sip] must be a sip: URI with a user, e.g. "
                      "\"sip:0311111111@example.ne.jp\"");
  }
  u.aor = *aor;
  for (auto [key, field] : {std::pair{"display_name", &u.display_name}, std::pair{"user", &u.auth_user},
                            std::pair{"password", &u.password}, std::pair{"user_agent", &u.user_agent}}) {
    auto v = get<std::string>(t, key, origin, kSection, *field);
    if (!v) return v.error();
    if (v->find_first_of("\"\r\n") != std::string::npos) {
      return make_error(origin + ": " + key + " in [sip] may not hold quotes or line breaks");
    }
    *field = *v;
  }
  auto registrar = get<std::string>(t, "registrar", origin, kSection, std::string());
  if (!registrar) return registrar.error();
  if (!registrar->empty() && !is_sip_uri(*registrar, false)) {
    return make_error(origin + ": registrar in [sip] must be a sip: URI (\"sip:example.ne.jp\")");
  }
  u.registrar = *registrar;
  auto proxy = get<std::string>(t, "outbound_proxy", origin, kSection, std::string());
  if (!proxy) return proxy.error();
  if (!proxy->empty()) {
    if (auto hp = split_host_port(*proxy); !hp) {
      return make_error(origin + ": outbound_proxy in [sip]: " + hp.error().message);
    }
  }
  c.outbound_proxy = *proxy;
  auto listen = string_list(t, "listen", origin, kSection, c.listen);
  if (!listen) return listen.error();
  if (listen->empty() || listen->size() > 2) {
    return make_error(origin + ": listen in [sip] takes one or two addresses (one per family)");
  }
  bool v6 = false, v4 = false;
  for (const auto& l : *listen) {
    auto hp = split_host_port(l);
    if (!hp) return make_error(origin + ": listen in [sip]: " + hp.error().message);
    auto e = sip::Endpoint::parse(hp->first, hp->second);
    if (!e) return make_error(origin + ": listen in [sip]: " + e.error().message);
    bool& seen = e->ipv6() ? v6 : v4;
    if (seen) return make_error(origin + ": listen in [sip] has two addresses of one family");
    seen = true;
  }
  c.listen = *listen;
  if (!u.registrar.empty() && c.outbound_proxy.empty()) {
    // The registrar URI must then say where it is.
    if (auto hp = split_host_port(u.registrar.substr(u.registrar.find(':') + 1)); !hp) {
      return make_error(origin + ": registrar in [sip]: " + hp.error().message);
    }
  }
  if (auto st = read_uint(t, "register_expires", origin, kSection, u.register_expires, 60, 86400); !st) {
    return st.error();
  }
  uint32_t rmin = u.register_retry_min.count(), rmax = u.register_retry_max.count();
  if (auto st = read_uint(t, "register_retry_min", origin, kSection, rmin, 1, 3600); !st) return st.error();
  if (auto st = read_uint(t, "register_retry_max", origin, kSection, rmax, 1, 86400); !st) return st.error();
  if (rmax < rmin) return make_error(origin + ": register_retry_max in [sip] is below register_retry_min");
  u.register_retry_min = std::chrono::seconds(rmin);
  u.register_retry_max = std::chrono::seconds(rmax);
  if (auto st = read_uint(t, "min_se", origin, kSection, u.timers.min_se, 90, 86400); !st) return st.error();
  if (auto st = read_uint(t, "session_expires", origin, kSection, u.timers.session_expires, 90, 86400); !st) {
    return st.error();
  }
  if (u.timers.session_expires < u.timers.min_se) {
    return make_error(origin + ": session_expires in [sip] is below min_se (RFC 4028 §4)");
  }
  auto refresher = get<std::string>(t, "refresher", origin, kSection, std::string("uas"));
  if (!refresher) return refresher.error();
  if (*refresher != "uas" && *refresher != "uac") {
    return make_error(origin + ": refresher in [sip] is \"uas\" or \"uac\"");
  }
  u.timers.refresher = *refresher == "uac" ? sip::Refresher::kUac : sip::Refresher::kUas;
  uint32_t delay = 0;
  if (auto st = read_uint(t, "answer_delay_ms", origin, kSection, delay, 0, 60000); !st) return st.error();
  u.answer_delay = std::chrono::milliseconds(delay);
  if (auto st = read_uint(t, "max_calls", origin, kSection, u.max_calls, 1, 10000); !st) return st.error();
  if (auto st = read_uint(t, "max_requests_per_second", origin, kSection, u.max_requests_per_second, 1,
                          1000000);
      !st) {
    return st.error();
  }
  if (const toml::node* ike = t.get("ike")) {
    const toml::table* it = ike->as_table();
    if (!it) return make_error(where(origin, *ike) + "ike in [sip] must be a table ([sip.ike])");
    if (auto st = parse_ike(*it, origin, c); !st) return st.error();
  } else {
    toml::table empty;
    if (auto st = parse_ike(empty, origin, c); !st) return st.error();
  }
  return c;
}

Result<sip::UaConfig> resolve_sip_config(const SipConfig& c) {
  sip::UaConfig u = c.ua;
  if (!c.outbound_proxy.empty()) {
    auto hp = split_host_port(c.outbound_proxy);
    if (!hp) return hp.error();
    auto e = sip::Endpoint::resolve(hp->first, hp->second);
    if (!e) return make_error("outbound_proxy: " + e.error().message);
    u.outbound_proxy = *e;
  }
  for (const auto& l : c.listen) {
    auto hp = split_host_port(l);
    if (!hp) return hp.error();
    auto e = sip::Endpoint::parse(hp->first, hp->second);
    if (!e) return e.error();
    (e->ipv6() ? u.local_v6 : u.local_v4) = *e;
  }
  return u;
}

}  // namespace mapgw
