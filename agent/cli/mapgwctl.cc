// mapgwctl: the operator's command line. A table of subcommands; each one
// fills an args struct and hands it to a run_* function in the agent
// library, so the logic is testable without a process.
#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>

#include "agent/cli/calc_command.h"
#include "agent/cli/ctl_commands.h"

namespace {

bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

void add_calc(CLI::App& app, mapgw::CalcArgs& a) {
  auto* c = app.add_subcommand("calc", "Compute MAP-E mappings from rules (no daemon needed)");
  c->add_option("--rule", a.rules,
                "ipv6=P6,ipv4=P4,ea=N[,offset=A][,psidlen=K][,psid=P][,fmr] (repeatable)");
  c->add_option("--prefix", a.prefix, "End-user IPv6 prefix: IPv4 address, PSID, ports, CE address");
  c->add_option("--dst", a.dst, "BR direction: IPV4:PORT -> CE address, or drop");
  c->add_option("--check-src", a.check_src, "Receive check: outer IPv6 source (with --inner-src)");
  c->add_option("--inner-src", a.inner_src, "Receive check: inner IPV4:PORT source");
  c->add_option("--dhcpv6-hex", a.dhcpv6_hex, "Decode RFC 7598 OPTION_S46_CONT_MAPE bytes (hex)");
  c->add_flag("--legacy-iid", a.legacy_iid,
              "CE address with the draft-03 IID (8 zero | IPv4 | PSID | 8 zero) used by JP VNEs");
  c->add_flag("--json", a.json, "Print one JSON object");
}

// Subcommands answered by the running daemon.
void add_daemon_commands(CLI::App& app, mapgw::CtlArgs& a) {
  const std::pair<const char*, const char*> cmds[] = {
      {"status", "Role, interfaces, attached programs and rules of the running daemon"},
      {"rules", "The MAP rules the daemon has installed"},
      {"stats", "Data-plane counters (packets, bytes) by stable name"},
      {"reload", "Re-read the configuration file and apply it atomically"},
      {"sessions", "CE: NAT sessions (inside, outside, remote, state, age)"},
      {"ports", "CE: the assigned IPv4 address, port ranges and the ports in use"},
      {"whois", "BR: which End-user prefix and CE held IPV4:PORT (now, or --at TIME)"}};
  for (const auto& [name, help] : cmds) {
    auto* c = app.add_subcommand(name, help);
    c->add_flag("--json", a.json, "Print the daemon's JSON object");
    if (std::string(name) == "stats") c->add_flag("--all", a.all, "Also show counters at zero");
    if (std::string(name) == "whois") {
      c->add_option("address", a.addr, "IPV4:PORT")->required();
      c->add_option("--at", a.at, "2026-11-21T14:00:00Z, 2026-11-21T23:00:00+09:00 or @unix-seconds");
    }
    if (std::string(name) == "sessions") {
      c->add_option("--host", a.host, "Only sessions of this inside IPv4 address");
      c->add_option("--proto", a.proto, "Only tcp, udp or icmp");
    }
  }
}

// `mapgwctl sip status|call|hangup`: the SIP user agent.
void add_sip_commands(CLI::App& app, mapgw::CtlArgs& a, std::string& sub) {
  auto* sip = app.add_subcommand("sip", "The SIP user agent: registration and calls");
  sip->require_subcommand(1);
  auto* st = sip->add_subcommand("status", "Registration, calls with peer, state, IKE terms, timers");
  st->add_flag("--json", a.json, "Print the daemon's JSON object");
  st->callback([&sub] { sub = "sip_status"; });
  auto* call = sip->add_subcommand("call", "Place a call (sip: or tel: URI)");
  call->add_option("uri", a.uri, "sip:0322222222@example.ne.jp or tel:0322222222;phone-context=...")->required();
  call->add_option("--role", a.role, "client (forward, the default for a client) or server (reverse)");
  call->add_flag("--json", a.json, "Print the daemon's JSON object");
  call->callback([&sub] { sub = "sip_call"; });
  auto* hang = sip->add_subcommand("hangup", "End a call (CANCEL, BYE or decline, as its state allows)");
  hang->add_option("call", a.call, "The call's id from `sip status`")->required();
  hang->add_flag("--json", a.json, "Print the daemon's JSON object");
  hang->callback([&sub] { sub = "sip_hangup"; });
}

// `mapgwctl vpn status|connect|disconnect`: SIP-VPN tunnels.
void add_vpn_commands(CLI::App& app, mapgw::CtlArgs& a, std::string& sub) {
  auto* vpn = app.add_subcommand("vpn", "SIP-VPN: tunnels over the SIP calls, charon");
  vpn->require_subcommand(1);
  auto* st = vpn->add_subcommand("status", "charon, and per call: peer, role, ports, IKE/CHILD SA state, SPIs, virtual IP");
  st->add_flag("--json", a.json, "Print the daemon's JSON object");
  st->callback([&sub] { sub = "vpn_status"; });
  auto* c = vpn->add_subcommand("connect", "Call a peer; the tunnel follows the call");
  c->add_option("peer", a.uri, "sip: or tel: URI of the peer")->required();
  c->add_option("--role", a.role, "client (forward) or server (reverse, a call-back)");
  c->add_flag("--json", a.json, "Print the daemon's JSON object");
  c->callback([&sub] { sub = "sip_call"; });
  auto* d = vpn->add_subcommand("disconnect", "IKE delete, then BYE (TS-1017 4.2)");
  d->add_option("call", a.call, "The call's id")->required();
  d->add_flag("--json", a.json, "Print the daemon's JSON object");
  d->callback([&sub] { sub = "vpn_disconnect"; });
}

// `mapgwctl l2tp status|disconnect`: the L2TP/IPsec server.
void add_l2tp_commands(CLI::App& app, mapgw::CtlArgs& a, std::string& sub) {
  auto* l2tp = app.add_subcommand("l2tp", "L2TP/IPsec server: tunnels, PPP sessions, IPsec SAs");
  l2tp->require_subcommand(1);
  auto* st = l2tp->add_subcommand("status", "IPsec SAs, L2TP tunnels, sessions: user, address, bytes, uptime, layers");
  st->add_flag("--json", a.json, "Print the daemon's JSON object");
  st->callback([&sub] { sub = "l2tp_status"; });
  auto* d = l2tp->add_subcommand("disconnect", "End sessions (PPP Terminate, CDN; the tunnel and IKE SA after the last)");
  d->add_option("--session", a.session, "TUNNEL/SESSION as `l2tp status` shows it");
  d->add_option("--user", a.user, "Every session of this user");
  d->add_option("--address", a.addr, "The session holding this address");
  d->add_flag("--json", a.json, "Print the daemon's JSON object");
  d->callback([&sub, &a] {
    if (a.session.empty() && a.user.empty() && a.addr.empty()) {
      throw CLI::ValidationError("l2tp disconnect", "needs --session, --user or --address");
    }
    sub = "l2tp_disconnect";
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mapgwctl - control and inspect the mapgw MAP-E gateway"};
  app.require_subcommand(1);
  mapgw::CalcArgs calc;
  mapgw::CtlArgs ctl;
  std::string instance = "default";
  app.add_option("--instance", instance, "Daemon instance (socket /run/mapgw/INSTANCE.sock)");
  app.add_option("--socket", ctl.socket_path, "Control socket path (overrides --instance)");
  add_calc(app, calc);
  add_daemon_commands(app, ctl);
  std::string sip_cmd;
  add_sip_commands(app, ctl, sip_cmd);
  add_vpn_commands(app, ctl, sip_cmd);
  add_l2tp_commands(app, ctl, sip_cmd);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    mapgw::print_error(wants_json(argc, argv), e.what(), std::cout, std::cerr);
    return 2;
  }
  if (app.got_subcommand("calc")) return mapgw::run_calc(calc, std::cout, std::cerr);
  if (ctl.socket_path.empty()) ctl.socket_path = "/run/mapgw/" + instance + ".sock";
  const std::string cmd = app.got_subcommand("sip") || app.got_subcommand("vpn") || app.got_subcommand("l2tp")
                              ? sip_cmd
                              : app.get_subcommands().front()->get_name();
  return mapgw::run_ctl(cmd, ctl, std::cout, std::cerr);
}
