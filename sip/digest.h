// HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616):
// read a WWW-Authenticate / Proxy-Authenticate challenge and compute the
// Authorization / Proxy-Authorization answer. MD5 and SHA-256, with their
// "-sess" variants; qop "auth" or none (auth-int is refused: no registrar
// of the NGN asks for it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "loader/result.h"

namespace mapgw::sip {

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;     // echoed when present
  std::string algorithm;  // "MD5" when absent (RFC 2617 §3.2.1)
  bool qop_auth = false;  // the server offered qop=auth
  bool stale = false;     // the nonce expired: retry with the same credentials
  bool has_opaque = false;
};

// @value is the header value after the header name: "Digest realm=...".
Result<DigestChallenge> parse_digest_challenge(std::string_view value);

struct DigestAnswer {
  std::string user;
  std::string password;
  std::string method;  // the request's method
  std::string uri;     // the Request-URI as sent
  std::string cnonce;  // used when qop=auth
  uint32_t nc = 1;     // nonce count, per nonce
};

// The request-digest ("response") in lower-case hex.
Result<std::string> digest_response(const DigestChallenge& ch, const DigestAnswer& a);

// The whole Authorization / Proxy-Authorization header value.
Result<std::string> digest_authorization(const DigestChallenge& ch, const DigestAnswer& a);

}  // namespace mapgw::sip
