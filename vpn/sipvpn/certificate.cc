#include "vpn/sipvpn/certificate.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "vpn/charon/credentials.h"

namespace mapgw::vpn {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

Status write_file(const std::string& path, const std::string& data, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return make_error("creating " + path, errno);
  const ssize_t n = write(fd, data.data(), data.size());
  close(fd);
  if (n != static_cast<ssize_t>(data.size())) return make_error("writing " + path, errno);
  return Status::Ok();
}

Result<ServerCertificate> describe(X509* x, EVP_PKEY* key) {
  ServerCertificate c;
  BioPtr cert(BIO_new(BIO_s_mem())), pk(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert.get(), x);
  PEM_write_bio_PrivateKey_traditional(pk.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  c.cert_pem = bio_text(cert.get());
  c.key_pem = bio_text(pk.get());
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  if (n <= 0) return make_error("certificate does not encode to DER");
  c.cert_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  c.fingerprint = sip::sha1_fingerprint(c.cert_der);
  return c;
}

}  // namespace

Result<std::string> ephemeral_certificate(const std::string& cn) {
  PkeyPtr key(EVP_RSA_gen(2048));
  X509Ptr x(X509_new());
  if (!key || !x) return make_error("generating a throwaway certificate failed");
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 24L * 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  if (X509_sign(x.get(), key.get(), EVP_sha256()) <= 0) return make_error("signing a throwaway certificate failed");
  auto c = describe(x.get(), key.get());
  if (!c) return c.error();
  return c->cert_pem;
}

Result<sip::Fingerprint> certificate_fingerprint(const std::string& data) {
  BioPtr b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  X509Ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!x) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    x.reset(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
  }
  if (!x) return make_error("not an X.509 certificate");
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  if (n <= 0) return make_error("certificate does not encode to DER");
  auto fp = sip::sha1_fingerprint(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return fp;
}

Result<ServerCertificate> load_or_create_certificate(const std::string& cert_path, const std::string& key_path,
                                                     const std::string& identity) {
  struct stat st{};
  const bool have_cert = stat(cert_path.c_str(), &st) == 0;
  const bool have_key = stat(key_path.c_str(), &st) == 0;
  if (have_cert != have_key) {
    return make_error("server certificate: " + std::string(have_cert ? key_path : cert_path) +
                      " is missing while its pair exists");
  }
  if (have_cert) {
    auto pair = load_certificate_pair(cert_path, key_path);
    if (!pair) return make_error("server certificate: " + pair.error().message);
    BioPtr cb(BIO_new_mem_buf(pair->cert_pem.data(), static_cast<int>(pair->cert_pem.size())));
    BioPtr kb(BIO_new_mem_buf(pair->key_pem.data(), static_cast<int>(pair->key_pem.size())));
    X509Ptr x(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    PkeyPtr k(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    return describe(x.get(), k.get());
  }
  PkeyPtr key(EVP_RSA_gen(3072));
  if (!key) return make_error("generating the server's RSA key failed");
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(identity.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), name);
  // The IKE identity as a subjectAltName: charon matches IDr against it.
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  const std::string san = (identity.find('@') != std::string::npos ? "email:" : "DNS:") + identity;
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) <= 0) return make_error("signing the server certificate failed");
  auto c = describe(x.get(), key.get());
  if (!c) return c;
  if (Status s = write_file(key_path, c->key_pem, 0600); !s) return s.error();
  if (Status s = write_file(cert_path, c->cert_pem, 0644); !s) return s.error();
  return c;
}

}  // namespace mapgw::vpn
