#include "vpn/ppp/lcp.h"

#include <openssl/rand.h>

#include "vpn/bytes.h"

namespace mapgw::ppp {
namespace {

using bytes::be16;
using bytes::be32;
using bytes::rd16;
using bytes::rd32;

uint32_t random_magic() {
  uint32_t m = 0;
  while (m == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&m), sizeof m);
  return m;
}

std::optional<AuthMethod> auth_of(const std::string& value) {
  for (AuthMethod m : {AuthMethod::kPap, AuthMethod::kChapMd5, AuthMethod::kMsChapV2}) {
    if (auth_option_value(m) == value) return m;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(AuthMethod m) {
  switch (m) {
    case AuthMethod::kPap: return "pap";
    case AuthMethod::kChapMd5: return "chap-md5";
    case AuthMethod::kMsChapV2: return "mschapv2";
  }
  return "?";
}

std::string auth_option_value(AuthMethod m) {
  switch (m) {
    case AuthMethod::kPap: return be16(proto::kPap);
    case AuthMethod::kChapMd5: return be16(proto::kChap) + "\x05";
    case AuthMethod::kMsChapV2: return be16(proto::kChap) + "\x81";
  }
  return {};
}

Lcp::Lcp(LcpSettings s, Hooks h, uint32_t magic)
    : s_(std::move(s)), h_(std::move(h)), fsm_("LCP", {}, *this, [this](const Packet& p) { h_.send(p); }),
      magic_(magic ? magic : random_magic()) {}

std::vector<Option> Lcp::our_request() {
  std::vector<Option> o;
  if (ask_mru_) o.push_back({lcp_option::kMru, be16(s_.mru)});
  o.push_back({lcp_option::kAuthProtocol, auth_option_value(s_.auth[auth_index_])});
  if (ask_magic_) o.push_back({lcp_option::kMagic, be32(magic_)});
  return o;
}

Fsm::Verdict Lcp::check_request(const std::vector<Option>& theirs, std::vector<Option>& reply, bool no_more_naks) {
  std::vector<Option> naks, rejects;
  uint16_t mru = 1500;
  bool pfc = false, acfc = false;
  for (const auto& o : theirs) {
    switch (o.type) {
      case lcp_option::kMru:
        if (o.value.size() != 2) {
          rejects.push_back(o);
        } else if (rd16(o.value) < 128) {
          naks.push_back({lcp_option::kMru, be16(s_.mru)});  // too small to carry an IPCP exchange
        } else {
          mru = rd16(o.value);
        }
        break;
      case lcp_option::kAccm:
        if (o.value.size() != 4) rejects.push_back(o);  // meaningless on L2TP's synchronous link, harmless
        break;
      case lcp_option::kMagic:
        if (o.value.size() != 4) {
          rejects.push_back(o);
        } else if (rd32(o.value) == 0 || rd32(o.value) == magic_) {
          // Ours coming back: a loop (or a careless peer). Both pick anew.
          if (rd32(o.value) == magic_ && ++loops_ >= s_.max_loops) {
            fsm_.close("looped-back link (our Magic-Number came back " + std::to_string(loops_) + " times)", now_);
          }
          magic_ = random_magic();
          naks.push_back({lcp_option::kMagic, be32(random_magic())});
        }
        break;
      case lcp_option::kPfc:
      case lcp_option::kAcfc:
        if (!o.value.empty()) {
          rejects.push_back(o);
        } else {
          (o.type == lcp_option::kPfc ? pfc : acfc) = true;
        }
        break;
      default:
        // The client authenticating us, Quality, callback, multilink...: not here.
        rejects.push_back(o);
    }
  }
  const Fsm::Verdict v = Fsm::verdict(std::move(naks), std::move(rejects), reply, no_more_naks);
  if (v == Fsm::Verdict::kAck) {
    peer_mru_ = mru;
    peer_pfc_ = pfc;
    peer_acfc_ = acfc;
  }
  return v;
}

bool Lcp::on_nak(const std::vector<Option>& naked) {
  for (const auto& o : naked) {
    switch (o.type) {
      case lcp_option::kMru:
        if (o.value.size() != 2) return false;
        s_.mru = std::max<uint16_t>(576, rd16(o.value));
        break;
      case lcp_option::kMagic:
        magic_ = random_magic();
        break;
      case lcp_option::kAuthProtocol: {
        // The client prefers another method: take it if it is one of ours,
        // else offer our next one.
        auto want = auth_of(o.value);
        size_t next = auth_index_ + 1;
        for (size_t i = 0; want && i < s_.auth.size(); ++i) {
          if (s_.auth[i] == *want) next = i;
        }
        if (next >= s_.auth.size() || next == auth_index_) {
          fsm_.close("the client accepts none of our authentication methods", now_);
          return true;
        }
        auth_index_ = next;
        break;
      }
      default:
        break;  // a Nak of something we did not ask for: ignored (§5.3)
    }
  }
  return true;
}

bool Lcp::on_reject(const std::vector<Option>& rejected) {
  for (const auto& o : rejected) {
    switch (o.type) {
      case lcp_option::kMru: ask_mru_ = false; break;
      case lcp_option::kMagic: ask_magic_ = false; break;
      case lcp_option::kAuthProtocol:
        fsm_.close("the client refuses to authenticate", now_);
        return true;
      default:
        return false;  // rejects what we never asked for
    }
  }
  return true;
}

void Lcp::up() {
  echoes_unanswered_ = 0;
  next_echo_ = now_ + s_.echo_interval;
  if (h_.up) h_.up();
}

void Lcp::down() {
  next_echo_.reset();
  if (h_.down) h_.down(fsm_.why_finished().empty() ? "LCP down" : fsm_.why_finished());
}

void Lcp::finished(const std::string& why) {
  next_echo_.reset();
  if (h_.finished) h_.finished(why);
}

bool Lcp::extra_code(const Packet& p) {
  switch (p.code) {
    case code::kEchoRequest:
      if (fsm_.opened()) {
        Packet r;
        r.code = code::kEchoReply;
        r.id = p.id;
        r.data = be32(magic_) + (p.data.size() > 4 ? p.data.substr(4) : std::string());
        h_.send(r);
      }
      return true;
    case code::kEchoReply:
      echoes_unanswered_ = 0;
      return true;
    case code::kDiscardRequest:
      return true;
    case code::kProtocolReject:
      if (fsm_.opened() && p.data.size() >= 2 && h_.protocol_rejected) {
        h_.protocol_rejected(rd16(p.data));
      }
      return true;
    default:
      return false;
  }
}

void Lcp::on_timer(Clock::time_point now) {
  now_ = now;
  fsm_.on_timer(now);
  if (!next_echo_ || now < *next_echo_ || !fsm_.opened()) return;
  next_echo_ = now + s_.echo_interval;
  if (now - last_heard_ < s_.echo_interval && echoes_unanswered_ == 0) return;  // traffic says it is alive
  if (echoes_unanswered_ >= s_.echo_failures) {
    fsm_.close("no Echo-Reply to " + std::to_string(echoes_unanswered_) + " Echo-Requests", now);
    return;
  }
  ++echoes_unanswered_;
  Packet e;
  e.code = code::kEchoRequest;
  e.id = fsm_.next_id();
  e.data = be32(magic_);
  h_.send(e);
}

std::optional<Lcp::Clock::time_point> Lcp::next_deadline() const {
  auto d = fsm_.next_deadline();
  if (next_echo_ && (!d || *next_echo_ < *d)) d = next_echo_;
  return d;
}

}  // namespace mapgw::ppp
