// libFuzzer: what a hostile PPP client controls inside its L2TP session.
// The first byte picks the entry: 0 = one frame through the frame, packet
// and option parsers (whatever parses must encode back the same); 1 =
// frames (split at "\0\0", up to 48) into the server's LCP, its login
// (the second byte picks PAP, CHAP-MD5 or MS-CHAPv2) and IPCP/IPV6CP,
// with time moving on after each.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tests/fuzz/pieces.h"
#include "vpn/ppp/authenticator.h"
#include "vpn/ppp/ncp.h"

namespace {

using namespace mapgw::ppp;

void parsers(std::string_view in) {
  auto f = parse_frame(in);
  if (!f) return;
  auto p = parse_packet(f->info);
  if (!p) return;
  if (parse_packet(encode_packet(*p))->data != p->data) __builtin_trap();
  auto o = parse_options(p->data);
  if (!o) return;
  if (encode_options(*o) != p->data) __builtin_trap();
}

void session(std::string_view in) {
  if (in.empty()) return;
  const AuthMethod method = static_cast<AuthMethod>(static_cast<uint8_t>(in[0]) % 3);
  in.remove_prefix(1);
  static const FileUserDb users = *FileUserDb::parse("alice plain:wonderland\nbob nthash:44EBBA8D5312B8D611474411F56989AE\n", "fuzz");
  Fsm::Clock::time_point now{};
  auto sink = [](const Packet&) {};
  std::unique_ptr<Authenticator> auth;
  Ipcp ipcp({0x0a000001, 0x0a000064, 0x0a000035, 0}, sink, [](bool) {});
  Ipv6cp ipv6cp(Ipv6cp::random_iid(), sink, [](bool) {});
  LcpSettings ls;
  ls.auth = {method};
  Lcp::Hooks lh;
  lh.send = sink;
  lh.up = [&] {
    auth = std::make_unique<Authenticator>(method, users, AuthSettings{},
                                           Authenticator::Hooks{[](uint16_t, const Packet&) {},
                                                                [&](const std::string&) {
                                                                  ipcp.fsm().open(now);
                                                                  ipcp.fsm().lower_up(now);
                                                                  ipv6cp.fsm().open(now);
                                                                  ipv6cp.fsm().lower_up(now);
                                                                },
                                                                [](const std::string&, const std::string&) {}});
    auth->start(now);
  };
  lh.down = [](const std::string&) {};
  Lcp lcp(ls, lh, 0x11223344);
  lcp.fsm().open(now);
  lcp.fsm().lower_up(now);
  for (int n = 0; n < 48 && !in.empty(); ++n) {
    const std::string_view one = next_piece(in);
    auto f = parse_frame(one);
    if (f) {
      lcp.heard(now);
      switch (f->protocol) {
        case proto::kLcp: lcp.fsm().receive(f->info, now); break;
        case proto::kPap:
        case proto::kChap:
          if (auth) auth->receive(f->protocol, f->info, now);
          break;
        case proto::kIpcp: ipcp.fsm().receive(f->info, now); break;
        case proto::kIpv6cp: ipv6cp.fsm().receive(f->info, now); break;
        default: break;
      }
    }
    now += std::chrono::milliseconds(900);
    lcp.on_timer(now);
    if (auth) auth->on_timer(now);
    ipcp.fsm().on_timer(now);
    ipv6cp.fsm().on_timer(now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    parsers(in);
  } else {
    session(in);
  }
  return 0;
}
