#include "vpn/l2tp/ipsec_config.h"

namespace mapgw::l2tp {

vici::Message l2tp_conn_message(const IpsecSettings& s) {
  vici::Message m;
  auto& c = m.section(kConnName);
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
  local.set("auth", "psk");
  auto& remote = c.section("remote");
  remote.set("auth", "psk");
  remote.set("id", "%any");  // Windows sends its address, others their FQDN or nothing useful
  auto& child = c.section("children").section(kConnName);
  child.set("mode", s.transport ? "transport" : "tunnel");
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

vici::Message l2tp_psk_message(const IpsecSettings& s) {
  vici::Message m;
  m.set("id", std::string(kConnName) + "-psk");
  m.set("type", "IKE");
  m.set("data", s.psk);
  // No owners: any identity (the clients' IDs are addresses nobody knows beforehand).
  return m;
}

}  // namespace mapgw::l2tp
