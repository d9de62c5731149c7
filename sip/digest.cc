#include "sip/digest.h"

#include <openssl/evp.h>
#include <strings.h>

#include <cctype>
#include <cstdio>

namespace mapgw::sip {
namespace {

const EVP_MD* digest_of(const std::string& algorithm, bool& sess) {
  std::string a;
  for (char c : algorithm) a += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  sess = a.size() > 5 && a.compare(a.size() - 5, 5, "-SESS") == 0;
  if (sess) a.resize(a.size() - 5);
  if (a == "MD5") return EVP_md5();
  if (a == "SHA-256") return EVP_sha256();
  return nullptr;
}

std::string hex_hash(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::string s;
  static const char* kHex = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    s += kHex[out[i] >> 4];
    s += kHex[out[i] & 15];
  }
  return s;
}

// auth-param list: name=token or name="quoted string", comma separated.
// Calls @on(name, value) for each; false on malformed text.
template <typename F>
bool for_each_param(std::string_view s, F on) {
  size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  };
  while (true) {
    skip();
    if (i >= s.size()) return true;
    size_t start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ',' && s[i] != ' ') ++i;
    std::string name(s.substr(start, i - start));
    skip();
    if (i >= s.size() || s[i] != '=' || name.empty()) return false;
    ++i;
    skip();
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;  // quoted-pair
        value += s[i++];
      }
      if (i >= s.size()) return false;  // unterminated
      ++i;
    } else {
      start = i;
      while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t') ++i;
      value = std::string(s.substr(start, i - start));
    }
    on(name, value);
    skip();
    if (i < s.size()) {
      if (s[i] != ',') return false;
      ++i;
    }
  }
}

}  // namespace

Result<DigestChallenge> parse_digest_challenge(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.size() < 7 || strncasecmp(value.data(), "Digest", 6) != 0 || value[6] != ' ') {
    return make_error("challenge is not a Digest challenge");
  }
  DigestChallenge ch;
  ch.algorithm = "MD5";
  bool qop_seen = false;
  const bool ok = for_each_param(value.substr(7), [&](const std::string& n, const std::string& v) {
    if (strcasecmp(n.c_str(), "realm") == 0) ch.realm = v;
    else if (strcasecmp(n.c_str(), "nonce") == 0) ch.nonce = v;
    else if (strcasecmp(n.c_str(), "opaque") == 0) ch.opaque = v, ch.has_opaque = true;
    else if (strcasecmp(n.c_str(), "algorithm") == 0) ch.algorithm = v;
    else if (strcasecmp(n.c_str(), "stale") == 0) ch.stale = strcasecmp(v.c_str(), "true") == 0;
    else if (strcasecmp(n.c_str(), "qop") == 0) {
      qop_seen = true;
      // a list of tokens: "auth,auth-int"
      size_t p = 0;
      while (p <= v.size()) {
        size_t e = v.find(',', p);
        if (e == std::string::npos) e = v.size();
        std::string tok = v.substr(p, e - p);
        while (!tok.empty() && tok.front() == ' ') tok.erase(0, 1);
        while (!tok.empty() && tok.back() == ' ') tok.pop_back();
        if (strcasecmp(tok.c_str(), "auth") == 0) ch.qop_auth = true;
        p = e + 1;
      }
    }
  });
  if (!ok) return make_error("malformed Digest challenge parameters");
  if (ch.nonce.empty()) return make_error("Digest challenge without a nonce");
  if (qop_seen && !ch.qop_auth) return make_error("Digest challenge offers no qop we support (auth)");
  bool sess = false;
  if (!digest_of(ch.algorithm, sess)) {
    return make_error("Digest algorithm '" + ch.algorithm + "' is not supported (MD5, SHA-256)");
  }
  return ch;
}

Result<std::string> digest_response(const DigestChallenge& ch, const DigestAnswer& a) {
  bool sess = false;
  const EVP_MD* md = digest_of(ch.algorithm, sess);
  if (!md) return make_error("Digest algorithm '" + ch.algorithm + "' is not supported");
  std::string ha1 = hex_hash(md, a.user + ":" + ch.realm + ":" + a.password);
  if (sess) ha1 = hex_hash(md, ha1 + ":" + ch.nonce + ":" + a.cnonce);
  const std::string ha2 = hex_hash(md, a.method + ":" + a.uri);
  if (!ch.qop_auth) return hex_hash(md, ha1 + ":" + ch.nonce + ":" + ha2);
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", a.nc);
  return hex_hash(md, ha1 + ":" + ch.nonce + ":" + nc + ":" + a.cnonce + ":auth:" + ha2);
}

Result<std::string> digest_authorization(const DigestChallenge& ch, const DigestAnswer& a) {
  auto response = digest_response(ch, a);
  if (!response) return response.error();
  auto quoted = [](const std::string& v) {
    std::string q = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\"";
  };
  std::string h = "Digest username=" + quoted(a.user) + ", realm=" + quoted(ch.realm) +
                  ", nonce=" + quoted(ch.nonce) + ", uri=" + quoted(a.uri) +
                  ", response=" + quoted(*response) + ", algorithm=" + ch.algorithm;
  if (ch.qop_auth) {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", a.nc);
    h += std::string(", qop=auth, nc=") + nc + ", cnonce=" + quoted(a.cnonce);
  }
  if (ch.has_opaque) h += ", opaque=" + quoted(ch.opaque);
  return h;
}

}  // namespace mapgw::sip
