#include "sip/client_auth.h"

#include "sip/messages.h"
#include "sip/osip_ptr.h"

namespace mapgw::sip {
namespace {

std::vector<std::string> challenges_of(const osip_message_t* m, bool proxy) {
  std::vector<std::string> out;
  const osip_list_t* list = proxy ? &m->proxy_authenticates : &m->www_authenticates;
  for (int i = 0; i < osip_list_size(list); ++i) {
    auto* w = static_cast<osip_www_authenticate_t*>(osip_list_get(list, i));
    char* s = nullptr;
    if (osip_www_authenticate_to_str(w, &s) == 0) out.push_back(take_osip_string(s));
  }
  return out;
}

}  // namespace

Result<HeaderList> ClientAuth::answer(const osip_message_t* m, const std::string& method,
                                      const std::string& uri) {
  const bool proxy = status_of(m) == 407;
  bool any = false;
  std::string last_error = "no Digest challenge in the " + std::to_string(status_of(m));
  for (const auto& text : challenges_of(m, proxy)) {
    auto ch = parse_digest_challenge(text);
    if (!ch) {
      last_error = ch.error().message;
      continue;
    }
    if (auto a = answered_.find(ch->realm); a != answered_.end() && !ch->stale) {
      return make_error("credentials for realm '" + ch->realm + "' refused");
    }
    Realm& r = realms_[ch->realm];
    if (r.challenge.nonce != ch->nonce) r.nc = 0;
    r.challenge = *ch;
    r.proxy = proxy;
    answered_[ch->realm] = ch->nonce;
    any = true;
  }
  if (!any) return make_error(last_error);
  HeaderList out = reuse(method, uri);
  if (out.empty()) return make_error(last_error);
  return out;
}

HeaderList ClientAuth::reuse(const std::string& method, const std::string& uri) {
  HeaderList out;
  for (auto& [realm, r] : realms_) {
    DigestAnswer a{user_, password_, method, uri, random_token(8), ++r.nc};
    auto h = digest_authorization(r.challenge, a);
    if (h) out.emplace_back(r.proxy ? "Proxy-Authorization" : "Authorization", *h);
  }
  return out;
}

}  // namespace mapgw::sip
