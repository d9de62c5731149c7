// CHAP-MD5 against RFC 1994's definition (MD5 of identifier, secret,
// challenge) computed here on its own; MS-CHAPv2 against RFC 2759 §9.2's
// worked example, every intermediate value.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "vpn/bytes.h"
#include "vpn/ppp/auth_crypto.h"

namespace mapgw::ppp {
namespace {

std::string hex(std::string_view h) { return bytes::from_hex(h).value(); }  // a bad literal throws

TEST(AuthCrypto, ChapMd5IsMd5OfIdSecretChallenge) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string in = std::string("\x07") + "secret" + "challenge-bytes";
  EVP_Digest(in.data(), in.size(), md, &len, EVP_md5(), nullptr);
  EXPECT_EQ(chap_md5_response(7, "secret", "challenge-bytes"), std::string(reinterpret_cast<char*>(md), len));
  EXPECT_NE(chap_md5_response(8, "secret", "challenge-bytes"), chap_md5_response(7, "secret", "challenge-bytes"));
}

TEST(AuthCrypto, MsChapV2Rfc2759WorkedExample) {
  const std::string auth_challenge = hex("5B5D7C7D7B3F2F3E3C2C602132262628");
  const std::string peer_challenge = hex("21402324255E262A28295F2B3A337C7E");
  EXPECT_EQ(challenge_hash(peer_challenge, auth_challenge, "User"), hex("D02E4386BCE91226"));
  auto hash = nt_password_hash("clientPass");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(*hash, hex("44EBBA8D5312B8D611474411F56989AE"));
  auto nt = nt_response(auth_challenge, peer_challenge, "User", "clientPass");
  ASSERT_TRUE(nt.ok()) << nt.error().message;
  EXPECT_EQ(*nt, hex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"));
  auto s = authenticator_response("clientPass", *nt, peer_challenge, auth_challenge, "User");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "S=407A5589115FD0D6209F510FE9C04566932CDA56");
}

TEST(AuthCrypto, PasswordsAreUtf16Le) {
  // A non-ASCII password hashes its UTF-16LE form: "é" is e9 00.
  auto a = nt_password_hash("\xc3\xa9");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_NE(*a, *nt_password_hash("e"));
  EXPECT_FALSE(nt_password_hash("\xff").ok());  // not UTF-8
}

}  // namespace
}  // namespace mapgw::ppp
