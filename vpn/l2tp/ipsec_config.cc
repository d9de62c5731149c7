#include "vpn/l2tp/ipsec_config.h"

namespace mapgw::l2tp {
namespace {

vici::Message conn_message(const IpsecSettings& s, const char* name, bool certificates) {
  vici::Message m;
  auto& c = m.section(name);
  c.set("version", "1");
  c.set_list("local_addrs", s.local_addrs);
  c.set_list("remote_addrs", {"%any"});
  c.set_list("proposals", s.ike_proposals);
  c.set("aggressive", "no");
  c.set("dpd_delay", std::to_string(s.dpd.count()) + "s");
  // IKEv1 declares a peer dead after dpd_timeout (charon's default 150 s):
  // three missed intervals, as for the other layers' keepalives.
  c.set("dpd_timeout", std::to_string(3 * s.dpd.count()) + "s");
  c.set("unique", "never");  // several clients may share one NAT'ed address and the PSK
  auto& local = c.section("local");
  auto& remote = c.section("remote");
  remote.set("id", "%any");  // Windows sends its address, others their FQDN or DN
  if (certificates) {
    // Our identity is the certificate's subject (charon's default); the
    // certificate always goes along (Windows does not always ask for it).
    c.set("send_cert", "always");
    local.set("auth", "pubkey");
    local.set_list("certs", {s.cert_pem});
    remote.set("auth", "pubkey");
    remote.set_list("cacerts", s.ca_pems);  // only certificates chaining to our CAs
  } else {
    local.set("auth", "psk");
    remote.set("auth", "psk");
  }
  auto& child = c.section("children").section(name);
  child.set("mode", s.transport ? "transport" : "tunnel");
  if (s.transport && s.sa_marks) {
    // One mark per CHILD_SA, the same both ways (%unique): its inbound
    // policy matches only packets its SA marked after decryption
    // (set_mark_in), its outbound policy only ours sent with that mark.
    child.set("mark_in", "%unique");
    child.set("mark_out", "%unique");
    child.set("set_mark_in", "%same");
  }
  const std::string port = std::to_string(s.l2tp_port);
  child.set_list("local_ts", {"dynamic[udp/" + port + "]"});
  // Clients send from 1701 (Windows, Android) or a random port (macOS/iOS
  // behind NAT).
  child.set_list("remote_ts", {"dynamic[udp]"});
  child.set_list("esp_proposals", s.esp_proposals);  // no DH group: no PFS in Quick Mode
  child.set("dpd_action", "clear");
  child.set("close_action", "none");
  return m;
}

}  // namespace

bool is_l2tp_conn(const std::string& name) { return name == kConnName || name == kCertConnName; }

const char* conn_auth(const std::string& name) { return name == kCertConnName ? "certificate" : "psk"; }

std::vector<vici::Message> l2tp_conn_messages(const IpsecSettings& s) {
  std::vector<vici::Message> out;
  if (s.psk_auth()) out.push_back(conn_message(s, kConnName, false));
  if (s.cert_auth()) out.push_back(conn_message(s, kCertConnName, true));
  return out;
}

std::vector<std::pair<std::string, vici::Message>> l2tp_credential_messages(const IpsecSettings& s) {
  std::vector<std::pair<std::string, vici::Message>> out;
  if (s.psk_auth()) {
    vici::Message m;
    m.set("id", std::string(kConnName) + "-psk");
    m.set("type", "IKE");
    m.set("data", s.psk);
    // No owners: any identity (the clients' IDs are addresses nobody knows beforehand).
    out.emplace_back("load-shared", std::move(m));
  }
  if (!s.cert_auth()) return out;
  vici::Message key;
  key.set("type", "any").set("data", s.key_pem);
  out.emplace_back("load-key", std::move(key));
  for (const auto& ca : s.ca_pems) {
    vici::Message m;
    m.set("type", "X509").set("flag", "CA").set("data", ca);
    out.emplace_back("load-cert", std::move(m));
  }
  if (!s.crl_pem.empty()) {
    vici::Message m;
    m.set("type", "X509_CRL").set("data", s.crl_pem);
    out.emplace_back("load-cert", std::move(m));
  }
  return out;
}

}  // namespace mapgw::l2tp
