#include "agent/cli/l2tp_print.h"

#include <cstdio>

#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

}  // namespace

void print_l2tp_status(const json& j, std::ostream& out) {
  std::string listen;
  for (const auto& l : j.value("listen", json::array())) listen += (listen.empty() ? "" : ", ") + l.get<std::string>();
  out << "Listening     " << (listen.empty() ? "-" : listen) << " (UDP), TUN " << json_field(j, "tun") << "\n";
  if (j.contains("ipsec")) {
    const auto& i = j["ipsec"];
    out << "IPsec         charon " << json_field(i, "charon") << ", ESP " << json_field(i, "backend") << " (" << json_field(i, "mode")
        << " mode), " << (j.value("require_ipsec", true) ? "required" : "optional") << ", "
        << i.value("sas", json::array()).size() << " SA(s)\n";
    std::string auth;
    for (const auto& a : i.value("auth", json::array())) auth += (auth.empty() ? "" : " and ") + a.get<std::string>();
    out << "  auth        " << (auth.empty() ? "-" : auth) << "\n";
    if (i.contains("certificate")) {
      const auto& c = i["certificate"];
      out << "  certificate " << json_field(c, "subject") << " (until " << json_field(c, "not_after") << "), "
          << json_field(c, "cas") << " CA(s), " << (c.value("crl", false) ? "CRL loaded" : "no CRL") << "\n";
    }
    for (const auto& sa : i.value("sas", json::array())) {
      const std::string host = json_field(sa, "host");
      const std::string where = host.find(':') != std::string::npos ? "[" + host + "]" : host;
      out << "  SA " << json_field(sa, "ike_id") << "  " << where << ":" << json_field(sa, "port") << "  "
          << json_field(sa, "auth") << "  " << json_field(sa, "remote_id") << ", " << json_field(sa, "child_sas")
          << " CHILD_SA(s), up " << json_field(sa, "up_seconds") << " s\n";
    }
  } else {
    out << "IPsec         off (require_ipsec = false, no psk or certificate)\n";
  }
  const auto& tunnels = j.value("tunnels", json::array());
  out << "Tunnels       " << tunnels.size() << "\n";
  for (const auto& t : tunnels) {
    char line[240];
    std::snprintf(line, sizeof line, "  %-6s %-11s %s  host %s (%s), %s session(s), %s retransmission(s)\n",
                  json_field(t, "id").c_str(), json_field(t, "state").c_str(), json_field(t, "peer").c_str(), json_field(t, "host_name").c_str(),
                  json_field(t, "vendor").c_str(), json_field(t, "sessions").c_str(), json_field(t, "retransmissions").c_str());
    out << line;
  }
  const auto& sessions = j.value("sessions", json::array());
  out << "Sessions      " << sessions.size() << "\n";
  for (const auto& s : sessions) {
    const auto& l = s.value("layers", json::object());
    auto up = [&](const char* k) { return l.value(k, false) ? "up" : "down"; };
    char line[300];
    std::snprintf(line, sizeof line, "  %-11s %-12s %-15s %-14s %s\n", json_field(s, "id").c_str(), json_field(s, "user").c_str(),
                  json_field(s, "address").c_str(), json_field(s, "phase").c_str(), json_field(s, "peer").c_str());
    out << line;
    out << "              IPsec " << up("ipsec") << ", L2TP " << up("l2tp") << ", PPP " << up("ppp") << "; "
        << json_field(s, "bytes_in", "0") << " bytes in, " << json_field(s, "bytes_out", "0") << " bytes out, up "
        << json_field(s, "up_seconds") << " s";
    if (!json_field(s, "prefix6", "").empty()) out << "; IPv6 " << json_field(s, "prefix6");
    out << "\n";
  }
}

}  // namespace mapgw
