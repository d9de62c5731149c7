#include "vpn/ppp/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "vpn/bytes.h"
#include "vpn/ppp/auth_crypto.h"

namespace mapgw::ppp {
namespace {

constexpr uint8_t kPapRequest = 1, kPapAck = 2, kPapNak = 3;
constexpr uint8_t kChapChallenge = 1, kChapResponse = 2, kChapSuccess = 3, kChapFailure = 4;

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// "DOMAIN\user" → "user" (RFC 2759 §8.2: the name without its domain).
std::string without_domain(const std::string& name) {
  const size_t slash = name.rfind('\\');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

}  // namespace

void Authenticator::start(Clock::time_point now) {
  state_ = State::kWaiting;
  if (m_ == AuthMethod::kPap) {
    due_ = now + s_.wait;
  } else {
    challenge(now);
  }
}

void Authenticator::challenge(Clock::time_point now) {
  challenge_.assign(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(challenge_.data()), 16);
  ++challenges_;
  Packet p;
  p.code = kChapChallenge;
  p.id = ++id_;
  p.data = std::string(1, static_cast<char>(challenge_.size())) + challenge_ + s_.name;
  h_.send(proto::kChap, p);
  due_ = now + s_.retry;
}

void Authenticator::on_timer(Clock::time_point now) {
  if (!due_ || now < *due_ || state_ != State::kWaiting) return;
  due_.reset();
  if (m_ != AuthMethod::kPap && challenges_ < s_.max_challenges) return challenge(now);
  state_ = State::kFailed;
  if (h_.failure) h_.failure("", "no authentication from the client");
}

void Authenticator::receive(uint16_t protocol, std::string_view info, Clock::time_point) {
  if (state_ != State::kWaiting || protocol != this->protocol()) return;
  auto p = parse_packet(info);
  if (!p) return;  // malformed: silently dropped
  if (m_ == AuthMethod::kPap) {
    if (p->code == kPapRequest) on_pap(*p);
  } else if (p->code == kChapResponse && p->id == id_) {
    on_chap_response(*p);
  }
}

void Authenticator::answer(uint8_t code, uint8_t id, const std::string& message) {
  Packet r;
  r.code = code;
  r.id = id;
  // PAP's message has a length byte; CHAP's runs to the end.
  r.data = m_ == AuthMethod::kPap ? std::string(1, static_cast<char>(message.size())) + message : message;
  h_.send(protocol(), r);
  due_.reset();
}

void Authenticator::succeed(uint8_t code, uint8_t id, const std::string& message) {
  answer(code, id, message);
  state_ = State::kSucceeded;
  if (h_.success) h_.success(user_);
}

void Authenticator::fail(uint8_t code, uint8_t id, const std::string& message, const std::string& why) {
  answer(code, id, message);
  state_ = State::kFailed;
  if (h_.failure) h_.failure(user_, why);
}

void Authenticator::on_pap(const Packet& p) {
  const std::string& d = p.data;
  if (d.empty() || d.size() < 1u + static_cast<uint8_t>(d[0]) + 1u) return;  // malformed
  const size_t ulen = static_cast<uint8_t>(d[0]);
  const size_t plen = static_cast<uint8_t>(d[1 + ulen]);
  if (d.size() < 2 + ulen + plen) return;
  user_ = d.substr(1, ulen);
  const std::string password = d.substr(2 + ulen, plen);
  auto cred = users_.find(user_);
  bool ok = false;
  if (cred) {
    if (!cred->password.empty()) {
      ok = same(password, cred->password);
    } else if (auto h = nt_password_hash(password)) {
      ok = same(*h, cred->nt_hash);
    }
  }
  if (ok) return succeed(kPapAck, p.id, "Welcome");
  fail(kPapNak, p.id, "Authentication failed", cred ? "wrong password (PAP)" : "unknown user (PAP)");
}

void Authenticator::on_chap_response(const Packet& p) {
  const std::string& d = p.data;
  if (d.empty() || d.size() < 1u + static_cast<uint8_t>(d[0])) return;
  const size_t vlen = static_cast<uint8_t>(d[0]);
  const std::string value = d.substr(1, vlen);
  user_ = d.substr(1 + vlen);
  const char* method = m_ == AuthMethod::kChapMd5 ? "CHAP-MD5" : "MS-CHAPv2";
  const uint8_t failure = kChapFailure;
  const std::string mschap_failure =
      "E=691 R=0 C=" + bytes::hex_upper(challenge_) + " V=3 M=Authentication failed";
  if (m_ == AuthMethod::kChapMd5) {
    auto cred = users_.find(user_);
    if (!cred) return fail(failure, p.id, "Authentication failed", std::string("unknown user (") + method + ")");
    if (cred->password.empty()) {
      return fail(failure, p.id, "Authentication failed",
                  "CHAP-MD5 needs the password; the users file holds only its NT hash");
    }
    if (!same(value, chap_md5_response(p.id, cred->password, challenge_))) {
      return fail(failure, p.id, "Authentication failed", "wrong password (CHAP-MD5)");
    }
    return succeed(kChapSuccess, p.id, "Welcome");
  }
  // MS-CHAPv2: Peer-Challenge(16) Reserved(8) NT-Response(24) Flags(1).
  if (value.size() != 49) return fail(failure, p.id, mschap_failure, "malformed MS-CHAPv2 response");
  const std::string name = without_domain(user_);
  auto cred = users_.find(name);
  if (!cred) return fail(failure, p.id, mschap_failure, "unknown user (MS-CHAPv2)");
  const std::string peer_challenge = value.substr(0, 16), nt = value.substr(24, 24);
  auto expected = nt_response_from_hash(challenge_, peer_challenge, name, cred->nt_hash);
  if (!expected || !same(*expected, nt)) return fail(failure, p.id, mschap_failure, "wrong password (MS-CHAPv2)");
  auto proof = authenticator_response_from_hash(cred->nt_hash, nt, peer_challenge, challenge_, name);
  if (!proof) return fail(failure, p.id, mschap_failure, proof.error().message);
  user_ = name;
  succeed(kChapSuccess, p.id, *proof + " M=Welcome");
}

}  // namespace mapgw::ppp
