#include "agent/config/sipvpn_section.h"

#include "agent/config/toml_read.h"

#include <arpa/inet.h>

#include <tuple>

namespace mapgw {
namespace {

const char* kSection = "[sipvpn]";

Status strings(const toml::table& t, const char* key, const std::string& origin, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  const toml::array* a = n->as_array();
  if (!a) return make_error(where(origin, *n) + key + " in [sipvpn] must be a list of strings");
  out.clear();
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s || s->empty()) return make_error(where(origin, e) + key + " in [sipvpn] must be a list of strings");
    out.push_back(*s);
  }
  return Status::Ok();
}

Status seconds(const toml::table& t, const char* key, const std::string& origin, std::chrono::seconds& out,
               int64_t lo, int64_t hi) {
  auto v = get<int64_t>(t, key, origin, kSection, static_cast<int64_t>(out.count()));
  if (!v) return v.error();
  if (*v < lo || *v > hi) {
    return make_error(origin + ": " + key + " in [sipvpn] must be " + std::to_string(lo) + ".." +
                      std::to_string(hi) + " seconds");
  }
  out = std::chrono::seconds(*v);
  return Status::Ok();
}

// "10.0.0.1", "10.0.0.0/24" or "10.0.0.100-10.0.0.150" of one family,
// as charon's pools, DNS and traffic selectors take them.
bool address_of(const std::string& s, int family) {
  unsigned char buf[16];
  return inet_pton(family, s.c_str(), buf) == 1;
}

bool prefix_of(const std::string& s, int family) {
  const size_t slash = s.find('/');
  if (slash == std::string::npos) return address_of(s, family);
  const std::string len = s.substr(slash + 1);
  const int max = family == AF_INET ? 32 : 128;
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) return false;
  return std::stoi(len) <= max && address_of(s.substr(0, slash), family);
}

bool range_of(const std::string& s, int family) {
  const size_t dash = s.find('-');
  if (dash == std::string::npos) return prefix_of(s, family);
  return address_of(s.substr(0, dash), family) && address_of(s.substr(dash + 1), family);
}

Status check_network_space(const vpn::SipVpnSettings& tun, const std::string& origin) {
  for (auto [key, list, family] : {std::tuple{"pool4", &tun.pool4, AF_INET}, std::tuple{"pool6", &tun.pool6, AF_INET6}}) {
    if (list->size() > 1) return make_error(origin + ": " + key + " in [sipvpn] is one range or prefix");
    for (const auto& r : *list) {
      if (!range_of(r, family)) {
        return make_error(origin + ": " + key + " in [sipvpn]: '" + r + "' is not an " +
                          (family == AF_INET ? "IPv4" : "IPv6") + " range (a-b) or prefix");
      }
    }
  }
  for (auto [key, list, family] : {std::tuple{"dns4", &tun.dns4, AF_INET}, std::tuple{"dns6", &tun.dns6, AF_INET6}}) {
    for (const auto& a : *list) {
      if (!address_of(a, family)) return make_error(origin + ": " + key + " in [sipvpn]: '" + a + "' is not an address");
    }
  }
  for (const auto& n : tun.subnets) {
    if (!prefix_of(n, AF_INET) && !prefix_of(n, AF_INET6)) {
      return make_error(origin + ": subnets in [sipvpn]: '" + n + "' is not a prefix");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<SipVpnSection> parse_sipvpn_section(const toml::table& t, const std::string& origin,
                                           const std::string& instance, const std::string& state_dir) {
  if (auto st = only_keys(t, {"esp_backend", "run_dir", "charon", "charon_log_level", "ike_proposals",
                              "esp_proposals", "ike_rekey", "child_rekey", "dpd", "pool4", "pool6", "dns4",
                              "dns6", "subnets", "permitted_peers", "ike_timeout", "delete_timeout",
                              "match_peer_identity", "certificate", "certificate_key", "eap_users", "eap_user",
                              "eap_password", "inner"},
                          origin, kSection);
      !st) {
    return st.error();
  }
  SipVpnSection s;
  s.run_dir = "/run/mapgw/" + instance + "/charon";
  auto backend = get<std::string>(t, "esp_backend", origin, kSection, s.esp_backend);
  if (!backend) return backend.error();
  if (*backend != "auto" && *backend != "kernel" && *backend != "libipsec") {
    return make_error(origin + ": esp_backend in [sipvpn] is \"auto\", \"kernel\" or \"libipsec\"");
  }
  s.esp_backend = *backend;
  auto run = get<std::string>(t, "run_dir", origin, kSection, s.run_dir);
  if (!run) return run.error();
  if (run->empty() || run->front() != '/') return make_error(origin + ": run_dir in [sipvpn] must be an absolute path");
  s.run_dir = *run;
  auto charon = get<std::string>(t, "charon", origin, kSection, s.charon);
  if (!charon) return charon.error();
  s.charon = *charon;
  auto level = get<int64_t>(t, "charon_log_level", origin, kSection, s.charon_log_level);
  if (!level) return level.error();
  if (*level < -1 || *level > 4) return make_error(origin + ": charon_log_level in [sipvpn] is -1..4");
  s.charon_log_level = static_cast<int>(*level);
  auto& tun = s.vpn.tunnel;
  for (auto [key, field] : {std::pair{"ike_proposals", &tun.ike_proposals}, std::pair{"esp_proposals", &tun.esp_proposals},
                            std::pair{"pool4", &tun.pool4}, std::pair{"pool6", &tun.pool6},
                            std::pair{"dns4", &tun.dns4}, std::pair{"dns6", &tun.dns6},
                            std::pair{"subnets", &tun.subnets}}) {
    if (Status st = strings(t, key, origin, *field); !st) return st.error();
  }
  if (Status st = check_network_space(tun, origin); !st) return st.error();
  if (tun.ike_proposals.empty() || tun.esp_proposals.empty()) {
    return make_error(origin + ": ike_proposals and esp_proposals in [sipvpn] may not be empty");
  }
  std::vector<std::string> peers;
  if (Status st = strings(t, "permitted_peers", origin, peers); !st) return st.error();
  for (const auto& p : peers) {
    const std::string id = vpn::ike_identity(p);
    if (id.empty()) {
      return make_error(origin + ": permitted_peers in [sipvpn]: '" + p + "' is not a sip: or tel: URI");
    }
    s.vpn.permitted_peers.insert(id);
  }
  if (Status st = seconds(t, "ike_rekey", origin, tun.ike_rekey, 60, 86400 * 7); !st) return st.error();
  if (Status st = seconds(t, "child_rekey", origin, tun.child_rekey, 20, 86400); !st) return st.error();
  if (Status st = seconds(t, "dpd", origin, tun.dpd, 0, 3600); !st) return st.error();
  if (Status st = seconds(t, "ike_timeout", origin, s.vpn.ike_timeout, 5, 600); !st) return st.error();
  if (Status st = seconds(t, "delete_timeout", origin, s.vpn.delete_timeout, 1, 60); !st) return st.error();
  auto cert = get<std::string>(t, "certificate", origin, kSection, state_dir + "/" + instance + "/sipvpn-server.crt");
  auto key = get<std::string>(t, "certificate_key", origin, kSection, state_dir + "/" + instance + "/sipvpn-server.key");
  if (!cert) return cert.error();
  if (!key) return key.error();
  s.certificate = *cert;
  s.certificate_key = *key;
  // Password mode: the server's users (EAP-MD5), the client's own.
  if (const toml::node* users = t.get("eap_users")) {
    const toml::array* a = users->as_array();
    if (!a) return make_error(where(origin, *users) + "eap_users in [sipvpn] is a list of { user, password }");
    for (const auto& e : *a) {
      const toml::table* u = e.as_table();
      if (!u) return make_error(where(origin, e) + "eap_users in [sipvpn] is a list of { user, password }");
      if (auto st = only_keys(*u, {"user", "password"}, origin, "an eap_users entry"); !st) return st.error();
      auto user = get<std::string>(*u, "user", origin, "an eap_users entry", std::nullopt);
      auto pw = get<std::string>(*u, "password", origin, "an eap_users entry", std::nullopt);
      if (!user) return user.error();
      if (!pw) return pw.error();
      if (user->empty() || pw->empty()) return make_error(origin + ": an eap_users entry has an empty user or password");
      s.vpn.eap_users[*user] = *pw;
    }
  }
  auto eu = get<std::string>(t, "eap_user", origin, kSection, std::string());
  auto ep = get<std::string>(t, "eap_password", origin, kSection, std::string());
  if (!eu) return eu.error();
  if (!ep) return ep.error();
  if (eu->empty() != ep->empty()) return make_error(origin + ": eap_user and eap_password in [sipvpn] go together");
  s.vpn.eap_user = *eu;
  s.vpn.eap_password = *ep;
  // inner: what a client asks for inside the tunnel.
  std::vector<std::string> inner{"ipv4"};
  if (Status st = strings(t, "inner", origin, inner); !st) return st.error();
  tun.inner_ipv4 = tun.inner_ipv6 = false;
  for (const auto& f : inner) {
    if (f == "ipv4") {
      tun.inner_ipv4 = true;
    } else if (f == "ipv6") {
      tun.inner_ipv6 = true;
    } else {
      return make_error(origin + ": inner in [sipvpn] lists \"ipv4\" and/or \"ipv6\", not '" + f + "'");
    }
  }
  if (!tun.inner_ipv4 && !tun.inner_ipv6) return make_error(origin + ": inner in [sipvpn] may not be empty");
  auto match = get<bool>(t, "match_peer_identity", origin, kSection, tun.match_peer_identity);
  if (!match) return match.error();
  tun.match_peer_identity = *match;
  return s;
}

}  // namespace mapgw
