#include "sip/fingerprint.h"

#include <openssl/evp.h>

#include <cctype>

namespace mapgw::sip {
namespace {

size_t digest_length(const std::string& hash) {
  if (hash == "SHA-1") return 20;
  if (hash == "SHA-256") return 32;
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Fingerprint digest(const EVP_MD* md, const char* name, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return Fingerprint{name, std::vector<uint8_t>(out, out + len)};
}

}  // namespace

std::string Fingerprint::str() const {
  static const char* kHex = "0123456789ABCDEF";
  std::string s = hash + " ";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) s += ':';
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 15];
  }
  return s;
}

Result<Fingerprint> parse_fingerprint(std::string_view value) {
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos) return make_error("fingerprint without a hash name");
  Fingerprint fp;
  for (char c : value.substr(0, sp)) fp.hash += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const size_t want = digest_length(fp.hash);
  if (want == 0) return make_error("fingerprint hash '" + fp.hash + "' is not SHA-1 or SHA-256");
  std::string_view hex = value.substr(sp + 1);
  while (!hex.empty() && hex.front() == ' ') hex.remove_prefix(1);
  while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\r')) hex.remove_suffix(1);
  // 2HEX *(":" 2HEX): each byte takes three characters but the last.
  if (hex.size() != want * 3 - 1) {
    return make_error("fingerprint of " + fp.hash + " needs " + std::to_string(want) + " bytes");
  }
  for (size_t i = 0; i < want; ++i) {
    const int hi = hex_value(hex[i * 3]), lo = hex_value(hex[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < want && hex[i * 3 + 2] != ':')) {
      return make_error("fingerprint is not colon-separated hex bytes");
    }
    fp.bytes.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return fp;
}

Fingerprint sha1_fingerprint(std::string_view data) { return digest(EVP_sha1(), "SHA-1", data); }
Fingerprint sha256_fingerprint(std::string_view data) {
  return digest(EVP_sha256(), "SHA-256", data);
}

}  // namespace mapgw::sip
