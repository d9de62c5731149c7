#include "agent/cli/ctl_commands.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "agent/cli/calc_command.h"
#include "agent/cli/l2tp_print.h"
#include "agent/cli/sip_print.h"
#include "agent/daemon/control_server.h"
#include "agent/util/json_text.h"

namespace mapgw {
namespace {

using nlohmann::json;

std::string s(const json& j) { return j.is_string() ? j.get<std::string>() : json_text(j); }

void print_spreading(const json& j, std::ostream& out) {
  if (!j.contains("spread_cpus")) return;
  std::string cpus;
  for (const auto& c : j["spread_cpus"]) cpus += (cpus.empty() ? "" : ",") + json_text(c);
  out << "Spreading     " << (cpus.empty() ? "off" : "by inner flow over CPUs " + cpus) << "\n";
}

void print_ce_status(const json& j, std::ostream& out) {
  const auto& i = j["interfaces"];
  out << "Role          CE (instance " << s(j["instance"]) << ", pid " << j["pid"] << ")\n";
  out << "Interfaces    LAN " << s(i["lan"]) << ", WAN " << s(i["wan"]) << ", slow path "
      << s(i["slow_path"]) << " (XDP " << s(j["xdp_mode"]) << ", "
      << (j["attached"].get<bool>() ? "attached" : "detached") << ")\n";
  out << "End-user      " << s(j["end_user_prefix"]) << "\n";
  out << "IPv4 address  " << s(j["ipv4_address"]);
  if (j["ipv4_prefix_len"].get<int>() < 32) out << "/" << j["ipv4_prefix_len"];
  out << "\n";
  out << "PSID          " << (j["psid"].is_null() ? "none" : json_text(j["psid"])) << " (length "
      << j["psid_len"] << ", offset " << j["psid_offset"] << "), " << j["port_count"]
      << " ports in " << j["port_ranges"].size() << " ranges\n";
  out << "CE address    " << s(j["ce_ipv6_address"]) << " (" << s(j["iid_layout"]) << " IID)\n";
  out << "BR            " << s(j["br_address"]) << "\n";
  out << "Filtering     " << s(j["filtering"]) << "\n";
  print_spreading(j, out);
  out << "NAT           " << j["sessions"] << " sessions, " << j["ports_in_use"]
      << " ports bound\n";
}

void print_br_status(const json& j, std::ostream& out);

void print_status(const json& j, std::ostream& out) {
  if (j.value("role", "") == "none") {
    out << "Role          none (services only)\n";
  } else if (j.value("role", "") == "ce") {
    print_ce_status(j, out);
  } else {
    print_br_status(j, out);
  }
  if (j.contains("sip")) print_sip_line(j["sip"], out);
}

void print_br_status(const json& j, std::ostream& out) {
  out << "Role          BR (instance " << s(j["instance"]) << ", pid " << j["pid"] << ", up "
      << j["uptime_s"] << " s)\n";
  const auto& i = j["interfaces"];
  out << "Interfaces    IPv4 " << s(i["ipv4"]) << ", IPv6 " << s(i["ipv6"]) << ", slow path "
      << s(i["slow_path"]) << " (XDP " << s(j["xdp_mode"]) << ", "
      << (j["attached"].get<bool>() ? "attached" : "detached") << ")\n";
  const auto& p = j["programs"];
  for (const auto& [hook, m] : p.items()) {
    for (const auto& [ifname, prog] : m.items()) {
      char line[160];
      std::snprintf(line, sizeof line, "Program       %-10s %-8s %s\n", hook.c_str(), ifname.c_str(),
                    s(prog).c_str());
      out << line;
    }
  }
  print_spreading(j, out);
  out << "Rules         " << j["rule_count"] << " in " << j["domains"].size() << " domain(s)\n";
  for (const auto& d : j["domains"]) {
    out << "Domain        " << s(d["name"]) << ": BR " << s(d["br_address"]) << ", " << d["rules"]
        << " rule(s)" << (d["legacy_iid"].get<bool>() ? ", legacy IID" : "") << "\n";
  }
}

void print_rules(const json& j, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-26s %-18s %3s %6s %7s %s\n", "DOMAIN", "IPV6 PREFIX",
                "IPV4 PREFIX", "EA", "OFFSET", "PSIDLEN", "FLAGS");
  out << line;
  for (const auto& r : j["rules"]) {
    std::string flags;
    if (r["fmr"].get<bool>()) flags += "fmr ";
    if (r["legacy_iid"].get<bool>()) flags += "legacy-iid ";
    if (!r["psid"].is_null()) flags += "psid=" + json_text(r["psid"]) + " ";
    std::snprintf(line, sizeof line, "%-12s %-26s %-18s %3d %6d %7d %s\n",
                  s(r["domain"]).c_str(), s(r["ipv6"]).c_str(), s(r["ipv4"]).c_str(),
                  r["ea"].get<int>(), r["offset"].get<int>(), r["psidlen"].get<int>(),
                  flags.c_str());
    out << line;
  }
}

void print_stats(const json& j, bool all, std::ostream& out) {
  char line[160];
  std::snprintf(line, sizeof line, "%-26s %16s %18s\n", "COUNTER", "PACKETS", "BYTES");
  out << line;
  for (const auto& [name, v] : j["counters"].items()) {
    if (!all && v["packets"].get<uint64_t>() == 0) continue;
    std::snprintf(line, sizeof line, "%-26s %16llu %18llu\n", name.c_str(),
                  static_cast<unsigned long long>(v["packets"].get<uint64_t>()),
                  static_cast<unsigned long long>(v["bytes"].get<uint64_t>()));
    out << line;
  }
}

void print_sessions(const json& j, std::ostream& out) {
  char line[200];
  std::snprintf(line, sizeof line, "%-5s %-21s %-21s %-21s %-12s %6s %6s\n", "PROTO", "INSIDE",
                "OUTSIDE", "REMOTE", "STATE", "AGE", "IDLE");
  out << line;
  for (const auto& x : j["sessions"]) {
    std::snprintf(line, sizeof line, "%-5s %-21s %-21s %-21s %-12s %6llu %6llu\n",
                  s(x["proto"]).c_str(), s(x["inside"]).c_str(), s(x["outside"]).c_str(),
                  s(x["remote"]).c_str(), s(x["state"]).c_str(),
                  static_cast<unsigned long long>(x["age_s"].get<uint64_t>()),
                  static_cast<unsigned long long>(x["idle_s"].get<uint64_t>()));
    out << line;
  }
  out << j["sessions"].size() << " session(s)\n";
}

// The assigned address and port ranges, as a v6plus home gateway's status
// page shows them (book §7.2), then the ports in use.
void print_ports(const json& j, std::ostream& out) {
  out << "IPv4 address  " << s(j["ipv4_address"]) << "\n";
  out << "PSID          " << (j["psid"].is_null() ? "none" : json_text(j["psid"])) << "\n";
  out << "Port ranges   " << j["port_count"] << " ports\n";
  for (const auto& r : j["port_ranges"]) out << "              " << r[0] << "-" << r[1] << "\n";
  out << "In use        ";
  for (const auto& [p, n] : j["in_use_count"].items()) out << p << " " << n << "  ";
  out << "\n";
  for (const auto& p : j["in_use"]) {
    out << "              " << s(p["proto"]) << " " << p["port"] << " -> " << s(p["inside"])
        << (p["static"].get<bool>() ? " (static)" : "") << "\n";
  }
}

void print_whois(const json& j, std::ostream& out) {
  out << "Query         " << s(j["query"]) << " at " << s(j["at"]) << "\n";
  if (j.contains("rules_since")) out << "Rules since   " << s(j["rules_since"]) << "\n";
  if (j.value("found", false)) {
    out << "Domain        " << s(j["domain"]) << "\n";
    out << "End-user      " << s(j["end_user_prefix"]) << "\n";
    out << "CE address    " << s(j["ce_ipv6_address"]) << "\n";
    out << "PSID          " << (j["psid"].is_null() ? "none" : json_text(j["psid"])) << "\n";
  } else {
    out << "Not found     " << s(j.value("reason", json("?")));
    if (j.contains("detail")) out << " (" << s(j["detail"]) << ")";
    out << "\n";
  }
}

}  // namespace

int run_ctl(const std::string& cmd, const CtlArgs& args, std::ostream& out, std::ostream& err) {
  json req = {{"cmd", cmd}};
  if (!args.host.empty()) req["host"] = args.host;
  if (!args.proto.empty()) req["proto"] = args.proto;
  if (!args.addr.empty()) req["addr"] = args.addr;
  if (!args.at.empty()) req["at"] = args.at;
  if (!args.uri.empty()) req["uri"] = args.uri;
  if (!args.role.empty()) req["role"] = args.role;
  if (!args.call.empty()) req["call"] = args.call;
  if (cmd == "l2tp_disconnect") {
    req.erase("addr");
    if (!args.addr.empty()) req["address"] = args.addr;
    if (!args.session.empty()) req["session"] = args.session;
    if (!args.user.empty()) req["user"] = args.user;
  }
  auto reply = control_request(args.socket_path, req);
  if (!reply) {
    print_error(args.json, reply.error().describe(), out, err);
    return 1;
  }
  if (reply->contains("error")) {
    print_error(args.json, s((*reply)["error"]), out, err);
    return 1;
  }
  if (args.json) {
    out << json_text(*reply) << "\n";
    return 0;
  }
  if (cmd == "status") print_status(*reply, out);
  else if (cmd == "rules") print_rules(*reply, out);
  else if (cmd == "stats") print_stats(*reply, args.all, out);
  else if (cmd == "sessions") print_sessions(*reply, out);
  else if (cmd == "ports") print_ports(*reply, out);
  else if (cmd == "whois") print_whois(*reply, out);
  else if (cmd == "sip_status") print_sip_status(*reply, out);
  else if (cmd == "sip_call") out << "call " << s((*reply)["call"]) << " started\n";
  else if (cmd == "sip_hangup") out << "call " << s((*reply)["hangup"]) << " hanging up\n";
  else if (cmd == "vpn_disconnect") out << "call " << s((*reply)["disconnecting"]) << ": IKE delete, then BYE\n";
  else if (cmd == "vpn_status") print_vpn_status(*reply, out);
  else if (cmd == "l2tp_status") print_l2tp_status(*reply, out);
  else if (cmd == "l2tp_disconnect") out << "disconnected " << json_text((*reply)["disconnected"]) << "\n";
  else out << json_text(*reply, 2) << "\n";
  return 0;
}

}  // namespace mapgw
