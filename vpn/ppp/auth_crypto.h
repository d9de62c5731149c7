// The arithmetic of PPP's challenge-response logins: CHAP with MD5 (RFC
// 1994 §4.1) and MS-CHAPv2 (RFC 2759 §8: NT password hash, challenge
// hash, the DES-based NT-Response, the authenticator response "S=..."),
// on OpenSSL. MD4 and single DES live in OpenSSL 3's legacy provider:
// they are fetched from a library context of their own, so the rest of
// the process keeps the default provider's algorithms only.
#pragma once

#include <string>
#include <string_view>

#include "loader/result.h"

namespace mapgw::ppp {

// MD5(id || secret || challenge).
std::string chap_md5_response(uint8_t id, std::string_view secret, std::string_view challenge);

// MD4 of the password in UTF-16LE (the password given in UTF-8).
Result<std::string> nt_password_hash(std::string_view password_utf8);
// The first 8 bytes of SHA1(peer_challenge || authenticator_challenge || user).
std::string challenge_hash(std::string_view peer_challenge, std::string_view authenticator_challenge,
                           std::string_view user);
// 24 bytes: the 8-byte challenge DES-encrypted under the three 7-byte
// thirds of the zero-padded 16-byte password hash.
Result<std::string> nt_response(std::string_view authenticator_challenge, std::string_view peer_challenge,
                                std::string_view user, std::string_view password_utf8);
// The same from the NT password hash (what a server may store instead).
Result<std::string> nt_response_from_hash(std::string_view authenticator_challenge, std::string_view peer_challenge,
                                          std::string_view user, std::string_view nt_hash);
Result<std::string> authenticator_response_from_hash(std::string_view nt_hash, std::string_view nt_resp,
                                                     std::string_view peer_challenge,
                                                     std::string_view authenticator_challenge, std::string_view user);
// "S=" and 40 upper-case hex digits: what the server proves itself with.
Result<std::string> authenticator_response(std::string_view password_utf8, std::string_view nt_resp,
                                           std::string_view peer_challenge,
                                           std::string_view authenticator_challenge, std::string_view user);

}  // namespace mapgw::ppp
