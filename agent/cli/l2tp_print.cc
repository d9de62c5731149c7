#include "agent/cli/l2tp_print.h"

#include <cstdio>

#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key)) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : json_text(j[key]);
}

}  // namespace

void print_l2tp_status(const json& j, std::ostream& out) {
  std::string listen;
  for (const auto& l : j.value("listen", json::array())) listen += (listen.empty() ? "" : ", ") + l.get<std::string>();
  out << "Listening     " << (listen.empty() ? "-" : listen) << " (UDP), TUN " << str(j, "tun") << "\n";
  if (j.contains("ipsec")) {
    const auto& i = j["ipsec"];
    out << "IPsec         charon " << str(i, "charon") << ", ESP " << str(i, "backend") << " (" << str(i, "mode")
        << " mode), " << (j.value("require_ipsec", true) ? "required" : "optional") << ", "
        << i.value("sas", json::array()).size() << " SA(s)\n";
  } else {
    out << "IPsec         off (require_ipsec = false, no psk)\n";
  }
  const auto& tunnels = j.value("tunnels", json::array());
  out << "Tunnels       " << tunnels.size() << "\n";
  for (const auto& t : tunnels) {
    char line[240];
    std::snprintf(line, sizeof line, "  %-6s %-11s %s  host %s (%s), %s session(s), %s retransmission(s)\n",
                  str(t, "id").c_str(), str(t, "state").c_str(), str(t, "peer").c_str(), str(t, "host_name").c_str(),
                  str(t, "vendor").c_str(), str(t, "sessions").c_str(), str(t, "retransmissions").c_str());
    out << line;
  }
  const auto& sessions = j.value("sessions", json::array());
  out << "Sessions      " << sessions.size() << "\n";
  for (const auto& s : sessions) {
    const auto& l = s.value("layers", json::object());
    auto up = [&](const char* k) { return l.value(k, false) ? "up" : "down"; };
    char line[300];
    std::snprintf(line, sizeof line, "  %-11s %-12s %-15s %-14s %s\n", str(s, "id").c_str(), str(s, "user").c_str(),
                  str(s, "address").c_str(), str(s, "phase").c_str(), str(s, "peer").c_str());
    out << line;
    out << "              IPsec " << up("ipsec") << ", L2TP " << up("l2tp") << ", PPP " << up("ppp") << "; "
        << str(s, "bytes_in", "0") << " bytes in, " << str(s, "bytes_out", "0") << " bytes out, up "
        << str(s, "up_seconds") << " s";
    if (!str(s, "prefix6", "").empty()) out << "; IPv6 " << str(s, "prefix6");
    out << "\n";
  }
}

}  // namespace mapgw
