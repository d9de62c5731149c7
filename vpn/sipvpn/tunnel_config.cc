#include "vpn/sipvpn/tunnel_config.h"

namespace mapgw::vpn {
namespace {

std::string seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

}  // namespace

std::string ike_identity(const std::string& uri) {
  auto strip_params = [](std::string s) {
    const size_t semi = s.find(';');
    return semi == std::string::npos ? s : s.substr(0, semi);
  };
  if (uri.rfind("sip:", 0) == 0 || uri.rfind("sips:", 0) == 0) {
    std::string rest = strip_params(uri.substr(uri.find(':') + 1));
    const size_t at = rest.find('@');
    if (at == std::string::npos || at == 0) return {};
    std::string host = rest.substr(at + 1);
    // Drop a port; keep an IPv6 literal whole.
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else if (host.find(':') != std::string::npos) {
      host = host.substr(0, host.find(':'));
    }
    return rest.substr(0, at) + "@" + host;
  }
  if (uri.rfind("tel:", 0) == 0) {
    const std::string number = strip_params(uri.substr(4));
    const size_t ctx = uri.find(";phone-context=");
    if (number.empty()) return {};
    if (ctx == std::string::npos) return number;
    return number + "@" + strip_params(uri.substr(ctx + 15));
  }
  return {};
}

std::vector<std::string> pool_names(const SipVpnSettings& s, const std::string& prefix) {
  std::vector<std::string> out;
  if (!s.pool4.empty()) out.push_back(prefix + "-v4");
  if (!s.pool6.empty()) out.push_back(prefix + "-v6");
  return out;
}

vici::Message load_conn_message(const SipVpnSettings& s, const CallTunnel& t) {
  const bool server = t.peer.local_role == sip::VpnRole::kServer;
  vici::Message m;
  auto& c = m.section(t.name);
  c.set("version", "2");
  c.set_list("local_addrs", {t.local_address});
  c.set_list("remote_addrs", {t.peer.address});
  c.set("local_port", std::to_string(t.local_port));
  c.set("remote_port", std::to_string(t.peer.port));  // whatever the SDP said (TS-1017 §4.1.2.2)
  c.set("encap", "yes");                                // UDP encapsulation from the first packet
  c.set("mobike", "no");
  c.set_list("proposals", s.ike_proposals);
  c.set("rekey_time", seconds(s.ike_rekey));
  c.set("dpd_delay", seconds(s.dpd));
  c.set("unique", "never");
  if (server) {
    const auto pools = pool_names(s, "sipvpn");
    if (!pools.empty()) c.set_list("pools", pools);
  } else {
    std::vector<std::string> vips;
    if (t.inner_ipv4) vips.push_back("0.0.0.0");
    if (t.inner_ipv6) vips.push_back("::");
    c.set_list("vips", vips);
  }
  auto& local = c.section("local");
  auto& remote = c.section("remote");
  local.set("id", t.local_id);
  const std::string peer_id = s.match_peer_identity && !t.remote_id.empty() ? t.remote_id : "%any";
  remote.set("id", peer_id);
  if (t.peer.auth == sip::IkeAuth::kPsk) {
    local.set("auth", "psk");
    remote.set("auth", "psk");
  } else if (server) {
    // TS-1017 §3.4.1: the server signs with its self-signed certificate
    // and always sends it (the client has no CA to ask for); the client
    // proves itself with EAP-MD5.
    local.set("auth", "pubkey");
    local.set_list("certs", {t.cert_pem});
    remote.set("auth", "eap-md5");
    remote.set("eap_id", "%any");
    c.set("send_cert", "always");
    c.set("send_certreq", "no");
  } else {
    local.set("auth", "eap-md5");
    local.set("eap_id", t.eap_user);
    remote.set("auth", "pubkey");
    c.set("send_certreq", "no");
    if (!t.pinned_cert.empty()) {
      // Exactly this certificate (charon trusts it since we loaded it; a
      // cacerts constraint would refuse it: a self-signed end entity is
      // not "authenticated by" itself as a CA).
      remote.set_list("certs", {t.pinned_cert});
    } else if (!t.decoy_ca.empty()) {
      remote.set_list("cacerts", {t.decoy_ca});
    }
  }
  auto& child = c.section("children").section(t.name);
  child.set("mode", "tunnel");
  // PFS off for our rekeys; a server also takes a proposal with a group.
  std::vector<std::string> esp = s.esp_proposals;
  if (server) {
    for (const auto& p : s.esp_proposals) esp.push_back(p + "-modp2048");
  }
  child.set_list("esp_proposals", esp);
  child.set("rekey_time", seconds(s.child_rekey));
  child.set("dpd_action", "clear");
  child.set("close_action", "none");
  if (server) {
    child.set_list("local_ts", s.subnets.empty() ? std::vector<std::string>{"0.0.0.0/0", "::/0"} : s.subnets);
  } else {
    std::vector<std::string> ts;
    if (t.inner_ipv4) ts.push_back("0.0.0.0/0");
    if (t.inner_ipv6) ts.push_back("::/0");
    child.set_list("remote_ts", ts);  // the server narrows it to its network space
  }
  return m;
}

vici::Message load_psk_message(const SipVpnSettings& s, const CallTunnel& t) {
  vici::Message m;
  m.set("id", t.name);
  m.set("type", "IKE");
  m.set("data", t.psk);
  std::vector<std::string> owners{t.local_id};
  if (s.match_peer_identity && !t.remote_id.empty()) owners.push_back(t.remote_id);
  m.set_list("owners", owners);
  return m;
}

vici::Message unload_conn_message(const CallTunnel& t) {
  vici::Message m;
  m.set("name", t.name);
  return m;
}

std::vector<vici::Message> load_pool_messages(const SipVpnSettings& s, const std::string& prefix) {
  std::vector<vici::Message> out;
  auto pool = [&](const std::vector<std::string>& addrs, const std::vector<std::string>& dns,
                  const std::string& name, bool v6) {
    vici::Message m;
    auto& p = m.section(name);
    p.set("addrs", addrs.front());
    if (!dns.empty()) p.set_list("dns", dns);
    // INTERNAL_IP*_SUBNET of this pool's family (a dual-stack client gets
    // both pools: each subnet once).
    std::vector<std::string> subnets;
    for (const auto& n : s.subnets) {
      if ((n.find(':') != std::string::npos) == v6) subnets.push_back(n);
    }
    if (!subnets.empty()) p.set_list("subnet", subnets);
    out.push_back(std::move(m));
  };
  if (!s.pool4.empty()) pool(s.pool4, s.dns4, prefix + "-v4", false);
  if (!s.pool6.empty()) pool(s.pool6, s.dns6, prefix + "-v6", true);
  return out;
}

}  // namespace mapgw::vpn
