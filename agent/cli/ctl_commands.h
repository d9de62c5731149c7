// mapgwctl commands that ask the running daemon (status, rules, stats,
// reload): one request over the control socket, then a table for people or
// the daemon's JSON object as is (--json).
#pragma once

#include <iosfwd>
#include <string>

namespace mapgw {

struct CtlArgs {
  std::string socket_path;
  bool json = false;
  bool all = false;  // stats: also counters that are zero
  std::string host;   // sessions: only this inside host
  std::string proto;  // sessions: only tcp, udp or icmp
  std::string addr;   // whois: IPV4:PORT
  std::string at;     // whois: time (default now)
  std::string uri;    // sip call: whom
  std::string role;   // sip call: client or server
  std::string call;   // sip hangup: the call's id
  std::string session, user;  // l2tp disconnect: "T/S", a user (addr: an address)
};

// Exit status: 0 answered, 1 the daemon reported an error or is unreachable.
int run_ctl(const std::string& cmd, const CtlArgs& args, std::ostream& out, std::ostream& err);

}  // namespace mapgw
