#include "sip/ua_core.h"

#include <osipparser2/osip_uri.h>

#include "sip/dialog.h"
#include "sip/messages.h"

namespace mapgw::sip {

const char* to_string(RequestDrop d) {
  switch (d) {
    case RequestDrop::kRateLimited: return "rate_limited";
    case RequestDrop::kTooManyCalls: return "too_many_calls";
    case RequestDrop::kUnknownMethod: return "unknown_method";
    case RequestDrop::kNoDialog: return "no_dialog";
    case RequestDrop::kBadRequest: return "bad_request";
    case RequestDrop::kCseqOrder: return "cseq_order";
    case RequestDrop::kUnsupported: return "unsupported_extension";
    case RequestDrop::kCount: break;
  }
  return "?";
}

std::string UaCore::aor_user() const {
  osip_uri_t* uri = nullptr;
  osip_uri_init(&uri);
  std::string user;
  if (osip_uri_parse(uri, cfg.aor.c_str()) == 0 && uri->username) user = uri->username;
  osip_uri_free(uri);
  return user;
}

std::string UaCore::contact_for(const Endpoint& peer) const {
  const Endpoint local = local_for(peer);
  const std::string user = aor_user();
  return "<sip:" + (user.empty() ? "" : user + "@") + local.host() + ":" +
         std::to_string(local.port()) + ">";
}

std::string UaCore::from_header(const std::string& tag) const {
  std::string h;
  if (!cfg.display_name.empty()) h = "\"" + cfg.display_name + "\" ";
  return h + "<" + cfg.aor + ">;tag=" + tag;
}

Result<Endpoint> UaCore::first_hop(const std::string& request_uri) const {
  if (cfg.outbound_proxy) return *cfg.outbound_proxy;
  auto hop = endpoint_of_uri(request_uri);
  if (!hop) return make_error("'" + request_uri + "' names no host and no outbound_proxy is set");
  return hop;
}

std::vector<std::string> UaCore::initial_routes() const {
  if (!cfg.outbound_proxy) return {};
  return {"<sip:" + cfg.outbound_proxy->host() + ":" + std::to_string(cfg.outbound_proxy->port()) +
          ";lr>"};
}

}  // namespace mapgw::sip
