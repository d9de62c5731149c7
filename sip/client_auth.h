// Answers 401/407 digest challenges for one chain of requests (a
// registration, an INVITE) as RFC 3261 §22.2 says: one answer per
// challenge, nonce counts per nonce, and a second challenge for a realm
// already answered means the credentials are wrong — unless the server
// says the nonce was only stale.
#pragma once

#include <osipparser2/osip_message.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "loader/result.h"
#include "sip/digest.h"

namespace mapgw::sip {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class ClientAuth {
 public:
  ClientAuth(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {}

  // From a 401 or 407 to a request of @method to @uri: the Authorization /
  // Proxy-Authorization headers for the retry. An error names why we
  // cannot (no challenge we answer, or the credentials were refused).
  Result<HeaderList> answer(const osip_message_t* challenge, const std::string& method,
                            const std::string& uri);
  // The credentials again for a later request of the chain (a refresh):
  // the same nonces, the next nonce count.
  HeaderList reuse(const std::string& method, const std::string& uri);
  // A 2xx ends the failure detection (the next challenge is a new round).
  void succeeded() { answered_.clear(); }
  // A fresh attempt after a failure: the credentials get another chance
  // (the registrar's refusal may have been its own trouble).
  void restart() {
    answered_.clear();
    realms_.clear();
  }

 private:
  struct Realm {
    DigestChallenge challenge;
    bool proxy = false;
    uint32_t nc = 0;
  };
  std::string user_, password_;
  std::map<std::string, Realm> realms_;          // by realm
  std::map<std::string, std::string> answered_;  // realm -> nonce answered this round
};

}  // namespace mapgw::sip
