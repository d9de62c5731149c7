// Digest answers checked against the worked examples of the RFCs, computed
// by their authors, not by us.
#include "sip/digest.h"

#include <gtest/gtest.h>

namespace mapgw::sip {
namespace {

// RFC 2617 §3.5.
TEST(Digest, Rfc2617WorkedExample) {
  auto ch = parse_digest_challenge(
      "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(ch) << ch.error().message;
  EXPECT_TRUE(ch->qop_auth);
  EXPECT_EQ(ch->algorithm, "MD5");
  DigestAnswer a{"Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b", 1};
  auto r = digest_response(*ch, a);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "6629fae49393a05397450978507c4ef1");
  auto h = digest_authorization(*ch, a);
  ASSERT_TRUE(h);
  EXPECT_NE(h->find("qop=auth, nc=00000001, cnonce=\"0a4f113b\""), std::string::npos) << *h;
  EXPECT_NE(h->find("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), std::string::npos) << *h;
}

// RFC 7616 §3.9.1, both algorithms of the example.
TEST(Digest, Rfc7616WorkedExampleMd5AndSha256) {
  const std::string params =
      "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
      "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
      "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
  DigestAnswer a{"Mufasa", "Circle of Life", "GET", "/dir/index.html",
                 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1};
  auto md5 = parse_digest_challenge("Digest " + params + ", algorithm=MD5");
  ASSERT_TRUE(md5) << md5.error().message;
  EXPECT_EQ(*digest_response(*md5, a), "8ca523f5e9506fed4657c9700eebdbec");
  auto sha = parse_digest_challenge("Digest " + params + ", algorithm=SHA-256");
  ASSERT_TRUE(sha) << sha.error().message;
  EXPECT_EQ(*digest_response(*sha, a),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// Without qop (RFC 2069 compatibility, what many registrars still send):
// response = H(HA1:nonce:HA2), no nc or cnonce in the header.
TEST(Digest, WithoutQop) {
  auto ch = parse_digest_challenge("Digest realm=\"example.ne.jp\", nonce=\"abc\"");
  ASSERT_TRUE(ch);
  EXPECT_FALSE(ch->qop_auth);
  DigestAnswer a{"alice", "secret", "REGISTER", "sip:example.ne.jp", "ignored", 1};
  auto h = digest_authorization(*ch, a);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->find("qop"), std::string::npos);
  EXPECT_EQ(h->find("cnonce"), std::string::npos);
  // H(H(alice:example.ne.jp:secret):abc:H(REGISTER:sip:example.ne.jp)), by
  // Python's hashlib (an independent implementation).
  EXPECT_EQ(*digest_response(*ch, a), "078a4607a6e670c86695feb91c2ff4f3");
}

TEST(Digest, RefusesWhatItCannotAnswer) {
  EXPECT_FALSE(parse_digest_challenge("Basic realm=\"x\""));
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"x\""));  // no nonce
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\""));
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256"));
  EXPECT_FALSE(parse_digest_challenge("Digest realm=\"x, nonce=\"n\""));  // unterminated quote
  EXPECT_FALSE(parse_digest_challenge("Digest realm"));
  auto stale = parse_digest_challenge("Digest realm=\"x\", nonce=\"n\", stale=TRUE");
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
}

}  // namespace
}  // namespace mapgw::sip
