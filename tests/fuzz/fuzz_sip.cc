// libFuzzer: what a hostile SIP peer controls. The first byte picks the
// entry: 0 = datagrams (split at "\0\0", up to 8) into a user agent that
// is a server and a client for both auth modes, with time moving on after
// each; 1 = an SDP offer and answer through the RFC 6193 rules; 2 = a
// digest challenge and its answer.
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/pieces.h"
#include "sip/digest.h"
#include "sip/sdp_ike.h"
#include "sip/user_agent.h"

namespace {

using namespace mapgw::sip;

class NullSink : public DatagramSink {
 public:
  mapgw::Status send(const Endpoint&, std::string_view) override { return mapgw::Status::Ok(); }
  Endpoint local_for(const Endpoint&) const override { return *Endpoint::parse("2001:db8::2", 5060); }
};

UaConfig server_config() {
  UaConfig c;
  c.aor = "sip:0322222222@example.ne.jp";
  c.ike.caps = {true, true, true, true, {}};
  c.ike.cert_fingerprint = sha1_fingerprint("cert");
  c.ike.psk_fingerprint = sha1_fingerprint("psk");
  c.max_requests_per_second = 1000000;
  return c;
}

void datagrams(std::string_view in) {
  static const UaConfig cfg = server_config();
  NullSink sink;
  auto ua = UserAgent::create(cfg, sink);
  if (!ua) return;
  const Endpoint from = *Endpoint::parse("2001:db8::1", 5060);
  TimePoint now{};
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    (*ua)->receive(next_piece(in), from, false, now);
    now += std::chrono::seconds(20);
    (*ua)->on_timer(now);
  }
  (*ua)->stop(now);
}

void sdp(std::string_view in) {
  IkeCapabilities caps{true, true, true, true, {sha1_fingerprint("psk")}};
  (void)accept_offer(caps, in);
  IkeMedia ours;
  ours.address = "2001:db8::1";
  (void)accept_answer(ours, in);
  ours.psk_fingerprint = sha1_fingerprint("psk");
  (void)accept_answer(ours, in);
  (void)parse_fingerprint(in);
}

void digest(std::string_view in) {
  auto ch = parse_digest_challenge(in);
  if (!ch) return;
  DigestAnswer a{"user", "password", "REGISTER", "sip:example.ne.jp", "cnonce", 1};
  (void)digest_authorization(*ch, a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: datagrams(in); break;
    case 1: sdp(in); break;
    default: digest(in); break;
  }
  return 0;
}
