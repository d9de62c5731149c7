// Building and reading SIP messages on top of libosip2's message object:
// requests from a typed description, responses from their request
// (RFC 3261 §8.2.6), and the small readers the dialog layer needs (header
// values, option tags, the body, URIs as text).
#pragma once

#include <osipparser2/osip_message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sip/endpoint.h"
#include "sip/osip_ptr.h"

namespace mapgw::sip {

// Random tokens for tags, Call-IDs and branches (getrandom, hex).
std::string random_token(size_t bytes = 8);
inline std::string new_branch() { return "z9hG4bK" + random_token(10); }

struct RequestSpec {
  std::string method;
  std::string request_uri;
  std::string from;     // header value, with its tag
  std::string to;       // header value, with the remote tag inside a dialog
  std::string call_id;
  uint32_t cseq = 1;
  Endpoint via;         // sent-by of our Via (with rport, RFC 3581)
  std::string branch;   // empty: a new one
  std::string contact;  // header value; empty: none
  std::vector<std::string> routes;  // Route values, in order
  std::vector<std::pair<std::string, std::string>> headers;  // further headers
  std::string content_type;  // with a body
  std::string body;
  int max_forwards = 70;
};

Result<MessagePtr> build_request(const RequestSpec& spec);

// A response to @request: Via, From, To, Call-ID and CSeq copied, @to_tag
// added to To when it has none (and @to_tag is not empty); Record-Route
// copied for responses that make a dialog (1xx/2xx to INVITE).
Result<MessagePtr> build_response(const osip_message_t* request, int code,
                                  const std::string& to_tag,
                                  const std::vector<std::pair<std::string, std::string>>& headers = {},
                                  const std::string& content_type = "", const std::string& body = "");

// Readers. Header names are case-insensitive; compact forms are the
// caller's to ask for too (RFC 3261 §7.3.3).
std::optional<std::string> header_value(const osip_message_t* m, const char* name,
                                        const char* compact = nullptr);
// Does any header @name list @token (comma-separated option tags or methods)?
bool header_has_token(const osip_message_t* m, const char* name, const char* token,
                      const char* compact = nullptr);
// Every token of every header @name, trimmed, in order.
std::vector<std::string> header_tokens(const osip_message_t* m, const char* name,
                                       const char* compact = nullptr);
bool allows_method(const osip_message_t* m, const char* method);
std::string body_of(const osip_message_t* m);
bool has_sdp_body(const osip_message_t* m);
std::string uri_string(const osip_uri_t* uri);
std::string from_string(const osip_from_t* from);  // From/To/Contact header value
std::string tag_of(const osip_from_t* from);       // "" when absent
int status_of(const osip_message_t* m);
std::string method_of(const osip_message_t* m);    // request method or CSeq method
uint32_t cseq_of(const osip_message_t* m);
std::string call_id_of(const osip_message_t* m);
// Record-Route values in message order.
std::vector<std::string> record_routes(const osip_message_t* m);
std::optional<std::string> contact_uri(const osip_message_t* m);
// The Expires header, or a Contact's expires parameter matching @contact_uri.
std::optional<uint32_t> granted_expires(const osip_message_t* m, const std::string& contact_uri);

}  // namespace mapgw::sip
