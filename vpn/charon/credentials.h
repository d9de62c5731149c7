// Credentials handed to charon, read from the operator's PEM files and
// checked when the configuration is read, so a wrong file is an error at
// `--check-config` rather than a client refused later: a certificate and
// the private key that belongs to it (the key file not readable by group
// or others), a bundle of CA certificates, a CRL. charon gets the PEM text
// itself over VICI (it runs in its own mount namespace and never opens
// our files).
#pragma once

#include <string>
#include <vector>

#include "loader/result.h"

namespace mapgw::vpn {

struct CertificatePair {
  std::string cert_pem, key_pem;
  std::string subject;    // as charon writes it ("C=JP, O=…, CN=…"): its IKE identity
  std::string not_after;  // ISO 8601 (UTC)
};

// Both files PEM; the key matches the certificate; the certificate is
// within its validity period now.
Result<CertificatePair> load_certificate_pair(const std::string& cert_path, const std::string& key_path);

// Every certificate of a PEM bundle, each a CA (basicConstraints CA:TRUE);
// at least one.
Result<std::vector<std::string>> load_ca_bundle(const std::string& path);

// One PEM X.509 CRL, its signature checked against one of @ca_pems.
Result<std::string> load_crl(const std::string& path, const std::vector<std::string>& ca_pems);

// A certificate's subject as charon writes it.
Result<std::string> certificate_subject(const std::string& pem);

}  // namespace mapgw::vpn
