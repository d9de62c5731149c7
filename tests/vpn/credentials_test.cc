// Credentials for charon read from the operator's files: each kind of
// mistake is refused with its reason when the configuration is read. The
// certificates come from strongSwan's own `pki` (tests/vpn/make_test_pki.sh).
#include "vpn/charon/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/vpn/test_pki.h"

namespace mapgw::vpn {
namespace {

class Credentials : public testing::LabPkiTest {
 protected:
  static std::string f(const std::string& name) { return dir_ + "/" + name; }
};

TEST_F(Credentials, AMatchingPair) {
  auto p = load_certificate_pair(f("server.pem"), f("server.key"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->subject, "C=JP, O=mapgw lab, CN=lns.example");  // as charon writes the identity
  EXPECT_NE(p->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(p->key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(p->not_after.size(), 20u) << p->not_after;  // 2027-01-05T23:34:40Z
}

TEST_F(Credentials, TheKeyOfAnotherCertificate) {
  auto p = load_certificate_pair(f("server.pem"), f("alice.key"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("is not the key of"), std::string::npos) << p.error().message;
}

TEST_F(Credentials, AKeyOthersCanRead) {
  const std::string key = f("readable.key");
  std::ifstream in(f("alice.key"));
  std::ofstream(key) << in.rdbuf();
  chmod(key.c_str(), 0644);
  auto p = load_certificate_pair(f("alice.pem"), key);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("chmod 600"), std::string::npos) << p.error().message;
}

TEST_F(Credentials, AnExpiredCertificate) {
  auto p = load_certificate_pair(f("expired.pem"), f("expired.key"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("expired on 2020-01-01T00:00:00Z"), std::string::npos) << p.error().message;
}

TEST_F(Credentials, MissingOrNotPem) {
  EXPECT_FALSE(load_certificate_pair(f("nothing.pem"), f("server.key")).ok());
  auto p = load_certificate_pair(f("server.key"), f("server.key"));  // a key where the certificate goes
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("is not a PEM certificate"), std::string::npos) << p.error().message;
}

TEST_F(Credentials, ABundleOfCas) {
  const std::string bundle = f("bundle.pem");
  {
    std::ofstream out(bundle);
    out << std::ifstream(f("ca.pem")).rdbuf() << std::ifstream(f("other-ca.pem")).rdbuf();
  }
  auto cas = load_ca_bundle(bundle);
  ASSERT_TRUE(cas.ok()) << cas.error().message;
  EXPECT_EQ(cas->size(), 2u);
  auto subject = certificate_subject((*cas)[1]);
  ASSERT_TRUE(subject.ok());
  EXPECT_EQ(*subject, "C=JP, O=elsewhere, CN=Other CA");
}

TEST_F(Credentials, AnEndEntityIsNoCa) {
  auto cas = load_ca_bundle(f("alice.pem"));
  ASSERT_FALSE(cas.ok());
  EXPECT_NE(cas.error().message.find("CN=alice is not a CA certificate"), std::string::npos) << cas.error().message;
  auto none = load_ca_bundle(f("server.key"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("holds no PEM certificate"), std::string::npos) << none.error().message;
}

TEST_F(Credentials, ACrlOfOurCa) {
  auto ca = load_ca_bundle(f("ca.pem"));
  auto other = load_ca_bundle(f("other-ca.pem"));
  ASSERT_TRUE(ca.ok() && other.ok());
  auto crl = load_crl(f("crl.pem"), *ca);
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  EXPECT_NE(crl->find("BEGIN X509 CRL"), std::string::npos);
  auto foreign = load_crl(f("crl.pem"), *other);  // signed by a CA we were not given
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("not signed by"), std::string::npos) << foreign.error().message;
  EXPECT_FALSE(load_crl(f("ca.pem"), *ca).ok());  // a certificate is no CRL
}

}  // namespace
}  // namespace mapgw::vpn
