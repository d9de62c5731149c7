#include "agent/cli/sip_print.h"

#include <cstdio>

#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

void print_call(const json& c, std::ostream& out) {
  char line[200];
  std::snprintf(line, sizeof line, "  %-4s %-8s %-12s %s\n", json_field(c, "id").c_str(),
                json_field(c, "direction").c_str(), json_field(c, "state").c_str(), json_field(c, "peer").c_str());
  out << line;
  if (c.contains("ike")) {
    const auto& i = c["ike"];
    out << "       IKE peer " << (json_field(i, "family") == "ipv6" ? "[" + json_field(i, "address") + "]" : json_field(i, "address"))
        << ":" << json_field(i, "port") << ", we are " << json_field(i, "local_role") << ", " << json_field(i, "auth") << " auth";
    if (i.contains("server_certificate")) out << ", server certificate " << json_field(i, "server_certificate");
    if (i.contains("peer_psk")) out << ", PSK " << json_field(i, "peer_psk");
    out << "\n";
  }
  if (c.contains("session_timer")) {
    const auto& t = c["session_timer"];
    out << "       session timer " << json_field(t, "interval") << " s, " << json_field(t, "refresher") << " refresh";
    if (t.contains("refresh_in")) out << ", next refresh in " << json_field(t, "refresh_in") << " s";
    if (t.contains("expires_in")) out << ", expires in " << json_field(t, "expires_in") << " s without one";
    out << "\n";
  }
  if (c.contains("end_reason")) {
    out << "       ended: " << json_field(c, "end_reason");
    if (c.contains("final_status")) out << " (" << json_field(c, "final_status") << ")";
    out << "\n";
  }
}

}  // namespace

void print_sip_line(const json& r, std::ostream& out) {
  out << "SIP           " << json_field(r, "state");
  if (r.contains("registrar")) out << " at " << json_field(r, "registrar");
  if (r.contains("expires_in")) out << ", expires in " << json_field(r, "expires_in") << " s";
  if (r.contains("last_error")) out << " (" << json_field(r, "last_error") << ")";
  out << "\n";
}

std::string joined(const json& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

void print_vpn_status(const json& j, std::ostream& out) {
  const auto& c = j.value("charon", json::object());
  out << "charon        " << json_field(c, "state") << " (pid " << json_field(c, "pid") << ", ESP " << json_field(c, "esp")
      << ", restarts " << json_field(c, "restarts") << ")\n";
  const auto dns = j.value("received_dns", json::array());
  if (!dns.empty()) out << "DNS received  " << joined(dns) << "\n";
  const auto& tunnels = j.value("tunnels", json::array());
  out << "Tunnels       " << tunnels.size() << "\n";
  for (const auto& t : tunnels) {
    char line[240];
    std::snprintf(line, sizeof line, "  %-4s %-10s %-8s %s %s, %s -> %s\n", json_field(t, "call").c_str(),
                  json_field(t, "state").c_str(), json_field(t, "direction").c_str(), json_field(t, "role").c_str(),
                  json_field(t, "auth").c_str(), json_field(t, "local").c_str(), json_field(t, "remote").c_str());
    out << line;
    out << "       peer " << json_field(t, "peer") << ", IKE " << json_field(t, "ike") << ", CHILD " << json_field(t, "child");
    if (!json_field(t, "spi_in", "").empty()) out << ", SPIs " << json_field(t, "spi_in") << "/" << json_field(t, "spi_out");
    out << "\n";
    const auto vips = t.value("virtual_ips", json::array());
    const auto nets = t.value("remote_networks", json::array());
    if (!vips.empty() || !nets.empty()) {
      out << "       virtual IPs " << (vips.empty() ? "-" : joined(vips)) << ", remote networks "
          << (nets.empty() ? "-" : joined(nets)) << "\n";
    }
    out << "       " << json_field(t, "bytes_in", "0") << " bytes in, " << json_field(t, "bytes_out", "0") << " bytes out";
    if (t.contains("up_seconds")) out << ", up " << json_field(t, "up_seconds") << " s";
    if (t.contains("last_rekey")) {
      out << ", last rekey " << json_field(t["last_rekey"], "kind") << " " << json_field(t["last_rekey"], "seconds_ago") << " s ago";
    }
    if (t.contains("end_reason")) out << ", ended: " << json_field(t, "end_reason");
    out << "\n";
  }
}

void print_sip_status(const json& j, std::ostream& out) {
  out << "AOR           " << json_field(j, "aor") << "\n";
  std::string listen;
  for (const auto& l : j.value("listen", json::array())) listen += (listen.empty() ? "" : ", ") + l.get<std::string>();
  out << "Listening     " << (listen.empty() ? "-" : listen) << " (UDP)\n";
  if (j.contains("registration")) print_sip_line(j["registration"], out);
  const auto& calls = j.value("calls", json::array());
  out << "Calls         " << calls.size() << "\n";
  for (const auto& c : calls) print_call(c, out);
  const auto& recent = j.value("recent", json::array());
  if (!recent.empty()) {
    out << "Recent        " << recent.size() << "\n";
    for (const auto& c : recent) print_call(c, out);
  }
}

}  // namespace mapgw
