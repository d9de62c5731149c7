#include "vpn/charon/credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace mapgw::vpn {
namespace {

struct Free {
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509* x) const { X509_free(x); }
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Owned<BIO> memory(const std::string& s) { return Owned<BIO>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string pem_of(X509* x) {
  Owned<BIO> b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), x);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string subject_of(X509* x) {
  Owned<BIO> b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), X509_get_subject_name(x), 0,
                     ASN1_STRFLGS_RFC2253 | XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string iso_time(const ASN1_TIME* t) {
  tm when{};
  if (ASN1_TIME_to_tm(t, &when) != 1) return "?";
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &when);
  return buf;
}

}  // namespace

Result<CertificatePair> load_certificate_pair(const std::string& cert_path, const std::string& key_path) {
  struct stat st{};
  if (stat(key_path.c_str(), &st) != 0) return make_error("cannot read " + key_path, errno);
  if ((st.st_mode & 077) != 0) return make_error(key_path + " must not be readable by others (chmod 600)");
  auto cert = read_file(cert_path);
  if (!cert) return cert.error();
  auto key = read_file(key_path);
  if (!key) return key.error();
  Owned<X509> x(PEM_read_bio_X509(memory(*cert).get(), nullptr, nullptr, nullptr));
  if (!x) return make_error(cert_path + " is not a PEM certificate");
  Owned<EVP_PKEY> k(PEM_read_bio_PrivateKey(memory(*key).get(), nullptr, nullptr, nullptr));
  if (!k) return make_error(key_path + " is not a PEM private key (or it is encrypted)");
  if (X509_check_private_key(x.get(), k.get()) != 1) return make_error(key_path + " is not the key of " + cert_path);
  CertificatePair p;
  p.not_after = iso_time(X509_get0_notAfter(x.get()));
  if (X509_cmp_current_time(X509_get0_notBefore(x.get())) > 0) {
    return make_error(cert_path + " is not valid before " + iso_time(X509_get0_notBefore(x.get())));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(x.get())) < 0) {
    return make_error(cert_path + " expired on " + p.not_after);
  }
  p.cert_pem = pem_of(x.get());
  p.key_pem = *key;
  p.subject = subject_of(x.get());
  return p;
}

Result<std::vector<std::string>> load_ca_bundle(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto bio = memory(*text);
  std::vector<std::string> out;
  while (Owned<X509> x{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_check_ca(x.get()) == 0) {
      return make_error(path + ": " + subject_of(x.get()) + " is not a CA certificate (no basicConstraints CA:TRUE)");
    }
    out.push_back(pem_of(x.get()));
  }
  ERR_clear_error();  // the read past the last certificate
  if (out.empty()) return make_error(path + " holds no PEM certificate");
  return out;
}

Result<std::string> load_crl(const std::string& path, const std::vector<std::string>& ca_pems) {
  auto text = read_file(path);
  if (!text) return text.error();
  Owned<X509_CRL> crl(PEM_read_bio_X509_CRL(memory(*text).get(), nullptr, nullptr, nullptr));
  if (!crl) return make_error(path + " is not a PEM certificate revocation list");
  for (const auto& pem : ca_pems) {
    Owned<X509> ca(PEM_read_bio_X509(memory(pem).get(), nullptr, nullptr, nullptr));
    if (!ca) continue;
    EVP_PKEY* pub = X509_get0_pubkey(ca.get());
    if (pub && X509_CRL_verify(crl.get(), pub) == 1) return *text;
  }
  return make_error(path + " is not signed by a certificate of the CA bundle");
}

Result<std::string> certificate_subject(const std::string& pem) {
  Owned<X509> x(PEM_read_bio_X509(memory(pem).get(), nullptr, nullptr, nullptr));
  if (!x) return make_error("not a PEM certificate");
  return subject_of(x.get());
}

}  // namespace mapgw::vpn
