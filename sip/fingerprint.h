// RFC 4572 fingerprints as TS-1017 uses them: "SHA-1 52:B6:…" in
// a=fingerprint (the server's self-signed certificate, DER) and
// a=psk-fingerprint (the pre-shared key's bytes, SPEC.md §4: RFC 6193 names
// no encoding, so we hash the key as given and print it like a certificate
// fingerprint).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"

namespace mapgw::sip {

struct Fingerprint {
  std::string hash;            // upper case, as RFC 4572 names it: "SHA-1", "SHA-256"
  std::vector<uint8_t> bytes;  // the digest

  // "SHA-1 52:B6:…": the attribute value.
  std::string str() const;
  bool operator==(const Fingerprint&) const = default;
};

// Parses an attribute value. Hash names are case-insensitive (RFC 4572
// §5); only SHA-1 and SHA-256 are accepted, and the digest must have the
// hash's length.
Result<Fingerprint> parse_fingerprint(std::string_view value);

Fingerprint sha1_fingerprint(std::string_view data);
Fingerprint sha256_fingerprint(std::string_view data);

}  // namespace mapgw::sip
