// The VPN server's self-signed certificate for password mode (TS-1017
// §3.4.1, §4.1.2.5): created on first start when none is configured (RSA,
// which charon's gmp plugin verifies; the key file 0600), its SHA-1 over
// the DER is the a=fingerprint the server's SDP carries.
#pragma once

#include <string>

#include "loader/result.h"
#include "sip/fingerprint.h"

namespace mapgw::vpn {

struct ServerCertificate {
  std::string cert_pem, key_pem, cert_der;
  sip::Fingerprint fingerprint;  // SHA-1 of cert_der
};

// Reads @cert_path and @key_path, or creates both (subject and SAN from
// @identity) when neither exists. One without the other is an error.
Result<ServerCertificate> load_or_create_certificate(const std::string& cert_path, const std::string& key_path,
                                                     const std::string& identity);

// A throwaway self-signed certificate (PEM), never written anywhere: a
// trust anchor nobody's certificate chains to.
Result<std::string> ephemeral_certificate(const std::string& cn);

// SHA-1 fingerprint of a certificate given as PEM or DER.
Result<sip::Fingerprint> certificate_fingerprint(const std::string& pem_or_der);

}  // namespace mapgw::vpn
