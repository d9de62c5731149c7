#include "sip/dialog.h"

#include <osipparser2/osip_parser.h>

#include <algorithm>

namespace mapgw::sip {
namespace {

// "<sip:host;lr>" or "sip:host" -> the URI between the brackets.
std::string inner_uri(const std::string& v) {
  const size_t a = v.find('<');
  const size_t b = v.find('>', a == std::string::npos ? 0 : a);
  if (a != std::string::npos && b != std::string::npos) return v.substr(a + 1, b - a - 1);
  return v;
}

bool is_loose(const std::string& route) {
  const std::string uri = inner_uri(route);
  return uri.find(";lr") != std::string::npos;
}

}  // namespace

Result<Endpoint> endpoint_of_uri(const std::string& value) {
  const std::string text = inner_uri(value);
  osip_uri_t* uri = nullptr;
  osip_uri_init(&uri);
  std::string host;
  long port = 0;
  if (osip_uri_parse(uri, text.c_str()) == 0 && uri->host && uri->scheme &&
      std::string(uri->scheme) == "sip") {
    host = uri->host;
    port = uri->port ? std::strtol(uri->port, nullptr, 10) : 5060;
  }
  osip_uri_free(uri);
  if (host.empty() || port <= 0 || port > 65535) {
    return make_error("'" + text + "' is not a sip: URI with a host");
  }
  return Endpoint::resolve(host, static_cast<uint16_t>(port));
}

Result<Dialog> Dialog::from_response(const osip_message_t* m) {
  Dialog d;
  d.call_id = call_id_of(m);
  d.local_tag = tag_of(m->from);
  d.remote_tag = tag_of(m->to);
  d.local_header = from_string(m->from);
  d.remote_header = from_string(m->to);
  d.local_cseq = cseq_of(m);
  auto target = contact_uri(m);
  if (!target) return make_error("the answer carries no Contact");
  d.remote_target = *target;
  auto rr = record_routes(m);
  std::reverse(rr.begin(), rr.end());  // §12.1.2: the UAC's route set is reversed
  d.route_set = rr;
  return d;
}

Result<Dialog> Dialog::from_request(const osip_message_t* m, const std::string& local_tag) {
  Dialog d;
  d.call_id = call_id_of(m);
  d.local_tag = local_tag;
  d.remote_tag = tag_of(m->from);
  std::string to = from_string(m->to);
  if (tag_of(m->to).empty()) to += ";tag=" + local_tag;
  d.local_header = to;
  d.remote_header = from_string(m->from);
  d.remote_cseq = cseq_of(m);
  auto target = contact_uri(m);
  if (!target) return make_error("the INVITE carries no Contact");
  d.remote_target = *target;
  d.route_set = record_routes(m);  // §12.1.1: in order for the UAS
  return d;
}

Result<Dialog::Outgoing> Dialog::request(const UaCore& core, const std::string& method,
                                         std::optional<uint32_t> cseq) {
  Outgoing out;
  RequestSpec& r = out.spec;
  r.method = method;
  r.from = local_header;
  r.to = remote_header;
  r.call_id = call_id;
  r.cseq = cseq ? *cseq : ++local_cseq;
  if (route_set.empty()) {
    r.request_uri = remote_target;
  } else if (is_loose(route_set.front())) {
    r.request_uri = remote_target;
    r.routes = route_set;
  } else {
    // A strict router: it takes the Request-URI, the target goes last.
    r.request_uri = inner_uri(route_set.front());
    r.routes.assign(route_set.begin() + 1, route_set.end());
    r.routes.push_back("<" + remote_target + ">");
  }
  auto hop = route_set.empty() ? endpoint_of_uri(remote_target) : endpoint_of_uri(route_set.front());
  if (!hop) {
    if (!core.cfg.outbound_proxy) return hop.error();
    hop = *core.cfg.outbound_proxy;
  }
  out.next_hop = *hop;
  r.via = core.local_for(*hop);
  r.contact = core.contact_for(*hop);
  r.headers.emplace_back("User-Agent", core.cfg.user_agent);
  return out;
}

}  // namespace mapgw::sip
