#include "sip/messages.h"

#include <osipparser2/osip_parser.h>
#include <strings.h>
#include <sys/random.h>

#include <charconv>
#include <cstring>

namespace mapgw::sip {
namespace {

bool name_is(const char* n, const char* name, const char* compact) {
  return n && (strcasecmp(n, name) == 0 || (compact && strcasecmp(n, compact) == 0));
}

std::string trim(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

std::optional<uint32_t> to_u32(const std::string& s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// libosip2's tag accessors are macros that pass a string literal as char*
// (clang refuses that): the same lookup with a writable name.
osip_generic_param_t* find_tag(const osip_from_t* f) {
  static char kTag[] = "tag";
  osip_generic_param_t* p = nullptr;
  if (!f) return nullptr;
  osip_generic_param_get_byname(const_cast<osip_list_t*>(&f->gen_params), kTag, &p);
  return p;
}

// The osip setters copy the string they are given; these wrap the
// allocation libosip2 expects for the ones that take ownership.
char* dup(const std::string& s) { return osip_strdup(s.c_str()); }

}  // namespace

std::string random_token(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    const ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<MessagePtr> build_request(const RequestSpec& s) {
  osip_message_t* raw = nullptr;
  if (osip_message_init(&raw) != 0) return make_error("out of memory");
  MessagePtr m(raw);
  osip_message_set_method(m.get(), dup(s.method));
  osip_message_set_version(m.get(), dup("SIP/2.0"));
  osip_uri_t* uri = nullptr;
  osip_uri_init(&uri);
  if (osip_uri_parse(uri, s.request_uri.c_str()) != 0) {
    osip_uri_free(uri);
    return make_error("request URI '" + s.request_uri + "' does not parse");
  }
  osip_message_set_uri(m.get(), uri);
  const std::string via = "SIP/2.0/UDP " + s.via.host() + ":" + std::to_string(s.via.port()) +
                          ";rport;branch=" + (s.branch.empty() ? new_branch() : s.branch);
  if (osip_message_set_via(m.get(), via.c_str()) != 0) return make_error("Via does not parse");
  for (const auto& r : s.routes) {
    if (osip_message_set_route(m.get(), r.c_str()) != 0) return make_error("Route '" + r + "' does not parse");
  }
  osip_message_set_max_forwards(m.get(), std::to_string(s.max_forwards).c_str());
  if (osip_message_set_from(m.get(), s.from.c_str()) != 0) return make_error("From '" + s.from + "' does not parse");
  if (osip_message_set_to(m.get(), s.to.c_str()) != 0) return make_error("To '" + s.to + "' does not parse");
  osip_message_set_call_id(m.get(), s.call_id.c_str());
  const std::string cseq = std::to_string(s.cseq) + " " + s.method;
  osip_message_set_cseq(m.get(), cseq.c_str());
  if (!s.contact.empty() && osip_message_set_contact(m.get(), s.contact.c_str()) != 0) {
    return make_error("Contact '" + s.contact + "' does not parse");
  }
  for (const auto& [name, value] : s.headers) {
    osip_message_set_header(m.get(), name.c_str(), value.c_str());
  }
  if (!s.body.empty()) {
    osip_message_set_content_type(m.get(), s.content_type.c_str());
    osip_message_set_body(m.get(), s.body.data(), s.body.size());
  }
  osip_message_set_content_length(m.get(), std::to_string(s.body.size()).c_str());
  return m;
}

Result<MessagePtr> build_response(const osip_message_t* req, int code, const std::string& to_tag,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& content_type, const std::string& body) {
  osip_message_t* raw = nullptr;
  if (osip_message_init(&raw) != 0) return make_error("out of memory");
  MessagePtr m(raw);
  osip_message_set_version(m.get(), dup("SIP/2.0"));
  osip_message_set_status_code(m.get(), code);
  const char* reason = osip_message_get_reason(code);
  osip_message_set_reason_phrase(m.get(), dup(reason ? reason : "Unknown"));
  for (int i = 0; i < osip_list_size(&req->vias); ++i) {
    auto* v = static_cast<osip_via_t*>(osip_list_get(&req->vias, i));
    osip_via_t* copy = nullptr;
    if (osip_via_clone(v, &copy) != 0) return make_error("Via clone failed");
    osip_list_add(&m->vias, copy, -1);
  }
  if (osip_from_clone(req->from, &m->from) != 0 || osip_to_clone(req->to, &m->to) != 0 ||
      osip_call_id_clone(req->call_id, &m->call_id) != 0 || osip_cseq_clone(req->cseq, &m->cseq) != 0) {
    return make_error("copying the request's headers failed");
  }
  if (!to_tag.empty() && !find_tag(m->to)) {
    static char kTag[] = "tag";
    osip_generic_param_add(&m->to->gen_params, osip_strdup(kTag), dup(to_tag));
  }
  const bool dialog_making = MSG_IS_INVITE(req) && code > 100 && code < 300;
  if (dialog_making) {
    for (int i = 0; i < osip_list_size(&req->record_routes); ++i) {
      auto* rr = static_cast<osip_record_route_t*>(osip_list_get(&req->record_routes, i));
      osip_record_route_t* copy = nullptr;
      if (osip_record_route_clone(rr, &copy) != 0) return make_error("Record-Route clone failed");
      osip_list_add(&m->record_routes, copy, -1);
    }
  }
  for (const auto& [name, value] : headers) {
    if (strcasecmp(name.c_str(), "Contact") == 0) {
      osip_message_set_contact(m.get(), value.c_str());
    } else if (strcasecmp(name.c_str(), "Allow") == 0) {
      osip_message_set_allow(m.get(), value.c_str());
    } else {
      osip_message_set_header(m.get(), name.c_str(), value.c_str());
    }
  }
  if (!body.empty()) {
    osip_message_set_content_type(m.get(), content_type.c_str());
    osip_message_set_body(m.get(), body.data(), body.size());
  }
  osip_message_set_content_length(m.get(), std::to_string(body.size()).c_str());
  return m;
}

std::optional<std::string> header_value(const osip_message_t* m, const char* name, const char* compact) {
  for (int i = 0; i < osip_list_size(&m->headers); ++i) {
    auto* h = static_cast<osip_header_t*>(osip_list_get(&m->headers, i));
    if (name_is(h->hname, name, compact)) return std::string(h->hvalue ? h->hvalue : "");
  }
  return std::nullopt;
}

std::vector<std::string> header_tokens(const osip_message_t* m, const char* name, const char* compact) {
  std::vector<std::string> out;
  for (int i = 0; i < osip_list_size(&m->headers); ++i) {
    auto* h = static_cast<osip_header_t*>(osip_list_get(&m->headers, i));
    if (!name_is(h->hname, name, compact) || !h->hvalue) continue;
    const std::string v = h->hvalue;
    size_t p = 0;
    while (p <= v.size()) {
      size_t e = v.find(',', p);
      if (e == std::string::npos) e = v.size();
      if (std::string tok = trim(v.substr(p, e - p)); !tok.empty()) out.push_back(tok);
      p = e + 1;
    }
  }
  return out;
}

bool header_has_token(const osip_message_t* m, const char* name, const char* token, const char* compact) {
  for (const auto& t : header_tokens(m, name, compact)) {
    if (strcasecmp(t.c_str(), token) == 0) return true;
  }
  return false;
}

bool allows_method(const osip_message_t* m, const char* method) {
  for (int i = 0; i < osip_list_size(&m->allows); ++i) {
    auto* a = static_cast<osip_allow_t*>(osip_list_get(&m->allows, i));
    if (a->value && strcasecmp(trim(a->value).c_str(), method) == 0) return true;
  }
  return false;
}

std::string body_of(const osip_message_t* m) {
  osip_body_t* b = nullptr;
  if (osip_message_get_body(m, 0, &b) != 0 || !b || !b->body) return {};
  return std::string(b->body, b->length);
}

bool has_sdp_body(const osip_message_t* m) {
  return m->content_type && m->content_type->type && m->content_type->subtype &&
         strcasecmp(m->content_type->type, "application") == 0 &&
         strcasecmp(m->content_type->subtype, "sdp") == 0 && !body_of(m).empty();
}

std::string uri_string(const osip_uri_t* uri) {
  char* s = nullptr;
  if (!uri || osip_uri_to_str(uri, &s) != 0) return {};
  return take_osip_string(s);
}

std::string from_string(const osip_from_t* from) {
  char* s = nullptr;
  if (!from || osip_from_to_str(from, &s) != 0) return {};
  return take_osip_string(s);
}

std::string tag_of(const osip_from_t* from) {
  osip_generic_param_t* tag = find_tag(from);
  return tag && tag->gvalue ? tag->gvalue : "";
}

int status_of(const osip_message_t* m) { return m->status_code; }
std::string method_of(const osip_message_t* m) {
  if (m->sip_method) return m->sip_method;
  return m->cseq && m->cseq->method ? m->cseq->method : "";
}
uint32_t cseq_of(const osip_message_t* m) {
  if (!m->cseq || !m->cseq->number) return 0;
  return to_u32(m->cseq->number).value_or(0);
}
std::string call_id_of(const osip_message_t* m) {
  char* s = nullptr;
  if (!m->call_id || osip_call_id_to_str(m->call_id, &s) != 0) return {};
  return take_osip_string(s);
}

std::vector<std::string> record_routes(const osip_message_t* m) {
  std::vector<std::string> out;
  for (int i = 0; i < osip_list_size(&m->record_routes); ++i) {
    auto* rr = static_cast<osip_record_route_t*>(osip_list_get(&m->record_routes, i));
    char* s = nullptr;
    if (osip_record_route_to_str(rr, &s) == 0) out.push_back(take_osip_string(s));
  }
  return out;
}

std::optional<std::string> contact_uri(const osip_message_t* m) {
  auto* c = static_cast<osip_contact_t*>(osip_list_get(&m->contacts, 0));
  if (!c || !c->url) return std::nullopt;
  return uri_string(c->url);
}

std::optional<uint32_t> granted_expires(const osip_message_t* m, const std::string& contact_uri) {
  for (int i = 0; i < osip_list_size(&m->contacts); ++i) {
    auto* c = static_cast<osip_contact_t*>(osip_list_get(&m->contacts, i));
    if (!c || !c->url || uri_string(c->url) != contact_uri) continue;
    osip_generic_param_t* e = nullptr;
    if (osip_contact_param_get_byname(c, const_cast<char*>("expires"), &e) == 0 && e && e->gvalue) {
      if (auto v = to_u32(e->gvalue)) return v;
    }
  }
  osip_header_t* h = nullptr;
  if (osip_message_get_expires(m, 0, &h) >= 0 && h && h->hvalue) return to_u32(trim(h->hvalue));
  return std::nullopt;
}

}  // namespace mapgw::sip
