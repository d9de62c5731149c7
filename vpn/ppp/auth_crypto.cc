#include "vpn/ppp/auth_crypto.h"

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <memory>

#include "vpn/bytes.h"

namespace mapgw::ppp {
namespace {

// MD4 and DES-ECB from a library context with the legacy provider.
struct Legacy {
  OSSL_LIB_CTX* ctx = nullptr;
  EVP_MD* md4 = nullptr;
  EVP_CIPHER* des = nullptr;
  Legacy() {
    ctx = OSSL_LIB_CTX_new();
    if (!ctx || !OSSL_PROVIDER_load(ctx, "legacy") || !OSSL_PROVIDER_load(ctx, "default")) return;
    md4 = EVP_MD_fetch(ctx, "MD4", nullptr);
    des = EVP_CIPHER_fetch(ctx, "DES-ECB", nullptr);
  }
};

const Legacy& legacy() {
  static const Legacy l;  // for the process's life: providers are not unloaded under running code
  return l;
}

std::string digest(const EVP_MD* md, std::string_view in) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

// UTF-8 → UTF-16LE; invalid sequences are an error (a password is text).
Result<std::string> utf16le(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t n = 0;
    if (c < 0x80) {
      cp = c, n = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f, n = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f, n = 3;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07, n = 4;
    } else {
      return make_error("password is not UTF-8");
    }
    if (i + n > s.size()) return make_error("password is not UTF-8");
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return make_error("password is not UTF-8");
      cp = cp << 6 | (cc & 0x3f);
    }
    i += n;
    auto put = [&](uint16_t u) {
      out += static_cast<char>(u & 0xff);
      out += static_cast<char>(u >> 8);
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(static_cast<uint16_t>(0xd800 | (cp >> 10)));
      put(static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)));
    } else {
      put(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

// 7 key bytes → 8 with a parity bit in each (RFC 2759 §8.6 DesEncrypt).
std::string des_key(std::string_view k7) {
  std::string k(8, '\0');
  uint64_t bits = 0;
  for (size_t i = 0; i < 7; ++i) bits = bits << 8 | static_cast<uint8_t>(k7[i]);
  for (int i = 0; i < 8; ++i) {
    uint8_t b = static_cast<uint8_t>((bits >> (49 - 7 * i)) & 0x7f) << 1;
    b |= !(__builtin_popcount(b) & 1);  // odd parity (ignored by DES, kept for form)
    k[i] = static_cast<char>(b);
  }
  return k;
}

Result<std::string> des_encrypt(std::string_view clear8, std::string_view key7) {
  const Legacy& l = legacy();
  if (!l.des) return make_error("DES-ECB unavailable (OpenSSL legacy provider missing)");
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const std::string key = des_key(key7);
  unsigned char out[16];
  int len = 0;
  if (!c || !EVP_EncryptInit_ex2(c.get(), l.des, reinterpret_cast<const unsigned char*>(key.data()), nullptr, nullptr) ||
      !EVP_CIPHER_CTX_set_padding(c.get(), 0) ||
      !EVP_EncryptUpdate(c.get(), out, &len, reinterpret_cast<const unsigned char*>(clear8.data()), 8) || len != 8) {
    return make_error("DES-ECB failed");
  }
  return std::string(reinterpret_cast<char*>(out), 8);
}

}  // namespace

std::string chap_md5_response(uint8_t id, std::string_view secret, std::string_view challenge) {
  return digest(EVP_md5(), std::string(1, static_cast<char>(id)) + std::string(secret) + std::string(challenge));
}

Result<std::string> nt_password_hash(std::string_view password_utf8) {
  if (!legacy().md4) return make_error("MD4 unavailable (OpenSSL legacy provider missing)");
  auto u = utf16le(password_utf8);
  if (!u) return u.error();
  return digest(legacy().md4, *u);
}

std::string challenge_hash(std::string_view peer_challenge, std::string_view authenticator_challenge,
                           std::string_view user) {
  return digest(EVP_sha1(), std::string(peer_challenge) + std::string(authenticator_challenge) + std::string(user))
      .substr(0, 8);
}

Result<std::string> nt_response(std::string_view authenticator_challenge, std::string_view peer_challenge,
                                std::string_view user, std::string_view password_utf8) {
  auto hash = nt_password_hash(password_utf8);
  if (!hash) return hash.error();
  return nt_response_from_hash(authenticator_challenge, peer_challenge, user, *hash);
}

Result<std::string> nt_response_from_hash(std::string_view authenticator_challenge, std::string_view peer_challenge,
                                          std::string_view user, std::string_view nt_hash) {
  if (nt_hash.size() != 16) return make_error("an NT password hash is 16 bytes");
  const std::string challenge = challenge_hash(peer_challenge, authenticator_challenge, user);
  const std::string z = std::string(nt_hash) + std::string(5, '\0');  // 21 bytes: three DES keys
  std::string out;
  for (size_t i = 0; i < 3; ++i) {
    auto part = des_encrypt(challenge, std::string_view(z).substr(7 * i, 7));
    if (!part) return part.error();
    out += *part;
  }
  return out;
}

Result<std::string> authenticator_response(std::string_view password_utf8, std::string_view nt_resp,
                                           std::string_view peer_challenge,
                                           std::string_view authenticator_challenge, std::string_view user) {
  auto hash = nt_password_hash(password_utf8);
  if (!hash) return hash.error();
  return authenticator_response_from_hash(*hash, nt_resp, peer_challenge, authenticator_challenge, user);
}

Result<std::string> authenticator_response_from_hash(std::string_view nt_hash, std::string_view nt_resp,
                                                     std::string_view peer_challenge,
                                                     std::string_view authenticator_challenge, std::string_view user) {
  static constexpr std::string_view kMagic1 = "Magic server to client signing constant";
  static constexpr std::string_view kMagic2 = "Pad to make it do more than one iteration";
  if (!legacy().md4) return make_error("MD4 unavailable (OpenSSL legacy provider missing)");
  const std::string hash_hash = digest(legacy().md4, nt_hash);
  const std::string d1 = digest(EVP_sha1(), hash_hash + std::string(nt_resp) + std::string(kMagic1));
  const std::string d2 = digest(EVP_sha1(), d1 + challenge_hash(peer_challenge, authenticator_challenge, user) +
                                                std::string(kMagic2));
  return "S=" + bytes::hex_upper(d2);
}

}  // namespace mapgw::ppp
