#include "agent/cli/sip_print.h"

#include <cstdio>

#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key)) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : json_text(j[key]);
}

void print_call(const json& c, std::ostream& out) {
  char line[200];
  std::snprintf(line, sizeof line, "  %-4s %-8s %-12s %s\n", str(c, "id").c_str(),
                str(c, "direction").c_str(), str(c, "state").c_str(), str(c, "peer").c_str());
  out << line;
  if (c.contains("ike")) {
    const auto& i = c["ike"];
    out << "       IKE peer " << (str(i, "family") == "ipv6" ? "[" + str(i, "address") + "]" : str(i, "address"))
        << ":" << str(i, "port") << ", we are " << str(i, "local_role") << ", " << str(i, "auth") << " auth";
    if (i.contains("server_certificate")) out << ", server certificate " << str(i, "server_certificate");
    if (i.contains("peer_psk")) out << ", PSK " << str(i, "peer_psk");
    out << "\n";
  }
  if (c.contains("session_timer")) {
    const auto& t = c["session_timer"];
    out << "       session timer " << str(t, "interval") << " s, " << str(t, "refresher") << " refresh";
    if (t.contains("refresh_in")) out << ", next refresh in " << str(t, "refresh_in") << " s";
    if (t.contains("expires_in")) out << ", expires in " << str(t, "expires_in") << " s without one";
    out << "\n";
  }
  if (c.contains("end_reason")) {
    out << "       ended: " << str(c, "end_reason");
    if (c.contains("final_status")) out << " (" << str(c, "final_status") << ")";
    out << "\n";
  }
}

}  // namespace

void print_sip_line(const json& r, std::ostream& out) {
  out << "SIP           " << str(r, "state");
  if (r.contains("registrar")) out << " at " << str(r, "registrar");
  if (r.contains("expires_in")) out << ", expires in " << str(r, "expires_in") << " s";
  if (r.contains("last_error")) out << " (" << str(r, "last_error") << ")";
  out << "\n";
}

std::string joined(const json& list) {
  std::string out;
  for (const auto& v : list) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

void print_vpn_status(const json& j, std::ostream& out) {
  const auto& c = j.value("charon", json::object());
  out << "charon        " << str(c, "state") << " (pid " << str(c, "pid") << ", ESP " << str(c, "esp")
      << ", restarts " << str(c, "restarts") << ")\n";
  const auto dns = j.value("received_dns", json::array());
  if (!dns.empty()) out << "DNS received  " << joined(dns) << "\n";
  const auto& tunnels = j.value("tunnels", json::array());
  out << "Tunnels       " << tunnels.size() << "\n";
  for (const auto& t : tunnels) {
    char line[240];
    std::snprintf(line, sizeof line, "  %-4s %-10s %-8s %s %s, %s -> %s\n", str(t, "call").c_str(),
                  str(t, "state").c_str(), str(t, "direction").c_str(), str(t, "role").c_str(),
                  str(t, "auth").c_str(), str(t, "local").c_str(), str(t, "remote").c_str());
    out << line;
    out << "       peer " << str(t, "peer") << ", IKE " << str(t, "ike") << ", CHILD " << str(t, "child");
    if (!str(t, "spi_in", "").empty()) out << ", SPIs " << str(t, "spi_in") << "/" << str(t, "spi_out");
    out << "\n";
    const auto vips = t.value("virtual_ips", json::array());
    const auto nets = t.value("remote_networks", json::array());
    if (!vips.empty() || !nets.empty()) {
      out << "       virtual IPs " << (vips.empty() ? "-" : joined(vips)) << ", remote networks "
          << (nets.empty() ? "-" : joined(nets)) << "\n";
    }
    out << "       " << str(t, "bytes_in", "0") << " bytes in, " << str(t, "bytes_out", "0") << " bytes out";
    if (t.contains("up_seconds")) out << ", up " << str(t, "up_seconds") << " s";
    if (t.contains("last_rekey")) {
      out << ", last rekey " << str(t["last_rekey"], "kind") << " " << str(t["last_rekey"], "seconds_ago") << " s ago";
    }
    if (t.contains("end_reason")) out << ", ended: " << str(t, "end_reason");
    out << "\n";
  }
}

void print_sip_status(const json& j, std::ostream& out) {
  out << "AOR           " << str(j, "aor") << "\n";
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
