#include "agent/config/l2tp_section.h"

#include <arpa/inet.h>

#include <sstream>

#include "agent/config/toml_read.h"
#include "vpn/charon/credentials.h"
#include "vpn/l2tp/address_pool.h"
#include "vpn/l2tp/prefix_pool.h"
#include "vpn/l2tp/mtu.h"

namespace mapgw {
namespace {

const char* kSection = "[l2tp]";

Status strings(const toml::table& t, const char* key, const std::string& origin, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  const toml::array* a = n->as_array();
  if (!a) return make_error(where(origin, *n) + key + " in [l2tp] must be a list of strings");
  out.clear();
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s || s->empty()) return make_error(where(origin, e) + key + " in [l2tp] must be a list of strings");
    out.push_back(*s);
  }
  return Status::Ok();
}

template <typename T>
Status number(const toml::table& t, const char* key, const std::string& origin, T& out, int64_t lo, int64_t hi) {
  auto v = get<int64_t>(t, key, origin, kSection, static_cast<int64_t>(out));
  if (!v) return v.error();
  if (*v < lo || *v > hi) {
    return make_error(origin + ": " + key + " in [l2tp] must be " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  out = static_cast<T>(*v);
  return Status::Ok();
}

Status seconds(const toml::table& t, const char* key, const std::string& origin, std::chrono::seconds& out,
               int64_t lo, int64_t hi) {
  int64_t v = out.count();
  if (Status st = number(t, key, origin, v, lo, hi); !st) return st;
  out = std::chrono::seconds(v);
  return Status::Ok();
}

std::optional<uint32_t> ipv4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

bool ipv6_address(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// IKEv1 with certificates: ours and its key, the clients' CA, a CRL —
// read and checked now (vpn/charon/credentials.h).
Status certificates(const toml::table& t, const std::string& origin, L2tpSection& s) {
  l2tp::IpsecSettings& out = s.ipsec;
  auto cert = get<std::string>(t, "certificate", origin, kSection, std::string());
  auto key = get<std::string>(t, "certificate_key", origin, kSection, std::string());
  auto ca = get<std::string>(t, "ca", origin, kSection, std::string());
  auto crl = get<std::string>(t, "crl", origin, kSection, std::string());
  for (auto* r : {&cert, &key, &ca, &crl}) {
    if (!*r) return r->error();
  }
  if (cert->empty() && key->empty() && ca->empty() && crl->empty()) return Status::Ok();
  if (cert->empty() || key->empty() || ca->empty()) {
    return make_error(origin + ": certificates in [l2tp] take all of 'certificate', 'certificate_key' and 'ca' "
                      "(the CA the clients' certificates are issued by)");
  }
  auto pair = vpn::load_certificate_pair(*cert, *key);
  if (!pair) return make_error(origin + ": [l2tp]: " + pair.error().message);
  auto cas = vpn::load_ca_bundle(*ca);
  if (!cas) return make_error(origin + ": ca in [l2tp]: " + cas.error().message);
  out.cert_pem = pair->cert_pem;
  s.cert_subject = pair->subject;
  s.cert_not_after = pair->not_after;
  out.key_pem = pair->key_pem;
  out.ca_pems = *cas;
  if (!crl->empty()) {
    auto list = vpn::load_crl(*crl, *cas);
    if (!list) return make_error(origin + ": crl in [l2tp]: " + list.error().message);
    out.crl_pem = *list;
  }
  return Status::Ok();
}

}  // namespace

Result<L2tpSection> parse_l2tp_section(const toml::table& t, const std::string& origin, const std::string& instance) {
  if (auto st = only_keys(t, {"listen", "port", "require_ipsec", "psk", "esp_backend", "ike_proposals",
                              "esp_proposals", "dpd", "run_dir", "charon", "charon_log_level", "host_name",
                              "certificate", "certificate_key", "ca", "crl", "peer_host_name", "tunnel_secret", "users_file", "auth", "pool4", "local4", "dns4",
                              "ipv6", "prefix6", "dns6", "mru", "path_mtu", "tun", "max_tunnels", "max_sessions",
                              "max_sessions_per_tunnel", "new_tunnels_per_second", "single_session",
                              "hello_interval", "echo_interval", "echo_failures"},
                          origin, kSection);
      !st) {
    return st.error();
  }
  L2tpSection s;
  // What a reload compares: the section without its credentials, which a
  // reload hands to charon without ending anyone's session.
  toml::table settings = t;
  for (const char* k : {"psk", "certificate", "certificate_key", "ca", "crl"}) settings.erase(k);
  std::ostringstream written;
  written << settings;
  s.as_written = written.str();
  auto& srv = s.server;
  auto& lns = srv.lns;

  // Where: IPv6 always; IPv4 only on an address the node owns whole.
  if (Status st = strings(t, "listen", origin, srv.listen); !st) return st.error();
  if (srv.listen.empty()) return make_error(origin + ": [l2tp] needs 'listen', the addresses to serve L2TP on");
  bool any_v6 = false, any_v4 = false;
  for (const auto& a : srv.listen) {
    if (ipv6_address(a)) {
      any_v6 = true;
    } else if (ipv4(a)) {
      any_v4 = true;
    } else {
      return make_error(origin + ": listen in [l2tp]: '" + a + "' is not an address");
    }
    if (a == "::" || a == "0.0.0.0") {
      return make_error(origin + ": listen in [l2tp] takes the server's own addresses, not '" + a +
                        "' (replies and IPsec policies need the address a client dialled)");
    }
  }
  if (Status st = number(t, "port", origin, srv.port, 1, 65535); !st) return st.error();

  // IPsec.
  auto require = get<bool>(t, "require_ipsec", origin, kSection, s.require_ipsec);
  if (!require) return require.error();
  s.require_ipsec = *require;
  auto psk = get<std::string>(t, "psk", origin, kSection, std::string());
  if (!psk) return psk.error();
  s.ipsec.psk = *psk;
  if (Status st = certificates(t, origin, s); !st) return st.error();
  if (s.require_ipsec && !s.ipsec.enabled()) {
    return make_error(origin + ": [l2tp] needs 'psk' (the IPsec pre-shared key the clients are given) or "
                      "'certificate', or require_ipsec = false");
  }
  if (!s.ipsec.psk.empty() && s.ipsec.psk.size() < 8) {
    return make_error(origin + ": psk in [l2tp] is shorter than 8 characters");
  }
  auto backend = get<std::string>(t, "esp_backend", origin, kSection, s.esp_backend);
  if (!backend) return backend.error();
  if (*backend != "auto" && *backend != "kernel" && *backend != "libipsec") {
    return make_error(origin + ": esp_backend in [l2tp] is \"auto\", \"kernel\" or \"libipsec\"");
  }
  s.esp_backend = *backend;
  if (Status st = strings(t, "ike_proposals", origin, s.ipsec.ike_proposals); !st) return st.error();
  if (Status st = strings(t, "esp_proposals", origin, s.ipsec.esp_proposals); !st) return st.error();
  if (Status st = seconds(t, "dpd", origin, s.ipsec.dpd, 0, 3600); !st) return st.error();
  s.ipsec.local_addrs = srv.listen;
  s.ipsec.l2tp_port = srv.port;
  s.run_dir = "/run/mapgw/" + instance + "/l2tp-charon";
  auto run = get<std::string>(t, "run_dir", origin, kSection, s.run_dir);
  if (!run) return run.error();
  if (run->empty() || run->front() != '/') return make_error(origin + ": run_dir in [l2tp] must be an absolute path");
  s.run_dir = *run;
  auto charon = get<std::string>(t, "charon", origin, kSection, s.charon);
  if (!charon) return charon.error();
  s.charon = *charon;
  if (Status st = number(t, "charon_log_level", origin, s.charon_log_level, -1, 4); !st) return st.error();

  // The control connection.
  auto host = get<std::string>(t, "host_name", origin, kSection, lns.tunnel.host_name);
  auto peer_host = get<std::string>(t, "peer_host_name", origin, kSection, std::string());
  auto secret = get<std::string>(t, "tunnel_secret", origin, kSection, std::string());
  if (!host) return host.error();
  if (!peer_host) return peer_host.error();
  if (!secret) return secret.error();
  if (host->empty()) return make_error(origin + ": host_name in [l2tp] may not be empty");
  lns.tunnel.host_name = *host;
  lns.tunnel.peer_host_name = *peer_host;
  lns.tunnel.secret = *secret;
  lns.link.auth.name = *host;

  // PPP: logins, addresses, DNS.
  auto users = get<std::string>(t, "users_file", origin, kSection, std::nullopt);
  if (!users) return make_error(origin + ": [l2tp] needs 'users_file' (user names and passwords, mode 0600)");
  srv.users_file = *users;
  std::vector<std::string> auth{"mschapv2", "chap", "pap"};
  if (Status st = strings(t, "auth", origin, auth); !st) return st.error();
  lns.link.lcp.auth.clear();
  for (const auto& a : auth) {
    if (a == "mschapv2") {
      lns.link.lcp.auth.push_back(ppp::AuthMethod::kMsChapV2);
    } else if (a == "chap") {
      lns.link.lcp.auth.push_back(ppp::AuthMethod::kChapMd5);
    } else if (a == "pap") {
      lns.link.lcp.auth.push_back(ppp::AuthMethod::kPap);
    } else {
      return make_error(origin + ": auth in [l2tp] lists \"mschapv2\", \"chap\" and \"pap\", not '" + a + "'");
    }
  }
  if (lns.link.lcp.auth.empty()) return make_error(origin + ": auth in [l2tp] may not be empty");
  auto pool = get<std::string>(t, "pool4", origin, kSection, std::nullopt);
  if (!pool) return make_error(origin + ": [l2tp] needs 'pool4', the clients' addresses (\"a.b.c.d-a.b.c.e\")");
  auto parsed_pool = l2tp::AddressPool::parse(*pool);
  if (!parsed_pool) return make_error(origin + ": pool4 in [l2tp]: " + parsed_pool.error().message);
  srv.pool4 = *pool;
  auto local = get<std::string>(t, "local4", origin, kSection, std::nullopt);
  if (!local) return make_error(origin + ": [l2tp] needs 'local4', the server's address on the PPP links");
  auto local_addr = ipv4(*local);
  if (!local_addr) return make_error(origin + ": local4 in [l2tp]: '" + *local + "' is not an IPv4 address");
  lns.link.ipcp.local = *local_addr;
  // Handing our own address to a client would break both.
  if (parsed_pool->contains(*local_addr)) return make_error(origin + ": local4 in [l2tp] lies inside pool4");
  std::vector<std::string> dns;
  if (Status st = strings(t, "dns4", origin, dns); !st) return st.error();
  if (dns.size() > 2) return make_error(origin + ": dns4 in [l2tp] takes at most two servers (IPCP has two)");
  for (size_t i = 0; i < dns.size(); ++i) {
    auto a = ipv4(dns[i]);
    if (!a) return make_error(origin + ": dns4 in [l2tp]: '" + dns[i] + "' is not an IPv4 address");
    (i == 0 ? lns.link.ipcp.dns1 : lns.link.ipcp.dns2) = *a;
  }
  // IPv6 inside: IPV6CP, then a /64 per session by Router Advertisement.
  auto v6 = get<bool>(t, "ipv6", origin, kSection, false);
  if (!v6) return v6.error();
  lns.link.ipv6 = *v6;
  auto prefix6 = get<std::string>(t, "prefix6", origin, kSection, std::string());
  if (!prefix6) return prefix6.error();
  if (lns.link.ipv6 && prefix6->empty()) {
    return make_error(origin + ": ipv6 = true in [l2tp] needs prefix6 (a /64 per session is carved from it)");
  }
  if (!prefix6->empty()) {
    if (auto p = l2tp::PrefixPool::parse(*prefix6); !p) {
      return make_error(origin + ": prefix6 in [l2tp]: " + p.error().message);
    }
    if (!lns.link.ipv6) return make_error(origin + ": prefix6 in [l2tp] needs ipv6 = true");
  }
  lns.prefix6 = *prefix6;
  std::vector<std::string> dns6;
  if (Status st = strings(t, "dns6", origin, dns6); !st) return st.error();
  for (const auto& d : dns6) {
    l2tp::Ipv6Address a{};
    if (inet_pton(AF_INET6, d.c_str(), a.data()) != 1) {
      return make_error(origin + ": dns6 in [l2tp]: '" + d + "' is not an IPv6 address");
    }
    lns.dns6.push_back(a);
  }

  // Sizes: the MRU that fits one datagram on the path (vpn/l2tp/mtu.h).
  if (Status st = number(t, "path_mtu", origin, s.path_mtu, 1280, 9000); !st) return st.error();
  const uint16_t fits = l2tp::ppp_mru_for(any_v6, s.path_mtu);
  uint16_t mru = fits;
  if (Status st = number(t, "mru", origin, mru, 576, 1500); !st) return st.error();
  lns.link.lcp.mru = mru;
  srv.tun_mtu = mru;
  (void)any_v4;
  auto tun = get<std::string>(t, "tun", origin, kSection, srv.tun_name);
  if (!tun) return tun.error();
  if (tun->empty() || tun->size() > 15) return make_error(origin + ": tun in [l2tp] is an interface name (1..15 characters)");
  srv.tun_name = *tun;

  // Limits and timers.
  if (Status st = number(t, "max_tunnels", origin, lns.max_tunnels, 1, 65535); !st) return st.error();
  if (Status st = number(t, "max_sessions", origin, lns.max_sessions, 1, 65535); !st) return st.error();
  if (Status st = number(t, "max_sessions_per_tunnel", origin, lns.tunnel.max_sessions, 1, 65535); !st) return st.error();
  auto rate = get<double>(t, "new_tunnels_per_second", origin, kSection, lns.new_tunnels_per_second);
  if (!rate) {
    auto as_int = get<int64_t>(t, "new_tunnels_per_second", origin, kSection, std::nullopt);
    if (!as_int) return rate.error();
    rate = static_cast<double>(*as_int);
  }
  if (*rate <= 0 || *rate > 10000) return make_error(origin + ": new_tunnels_per_second in [l2tp] must be above 0 and at most 10000");
  lns.new_tunnels_per_second = *rate;
  auto single = get<std::string>(t, "single_session", origin, kSection, std::string("replace"));
  if (!single) return single.error();
  if (*single == "replace") {
    lns.single_session = l2tp::SingleSession::kReplace;
  } else if (*single == "deny") {
    lns.single_session = l2tp::SingleSession::kDeny;
  } else if (*single == "off") {
    lns.single_session = l2tp::SingleSession::kOff;
  } else {
    return make_error(origin + ": single_session in [l2tp] is \"replace\", \"deny\" or \"off\"");
  }
  if (Status st = seconds(t, "hello_interval", origin, lns.tunnel.hello_interval, 10, 3600); !st) return st.error();
  if (Status st = seconds(t, "echo_interval", origin, lns.link.lcp.echo_interval, 1, 600); !st) return st.error();
  if (Status st = number(t, "echo_failures", origin, lns.link.lcp.echo_failures, 1, 100); !st) return st.error();
  return s;
}

}  // namespace mapgw
