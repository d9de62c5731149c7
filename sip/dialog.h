// A dialog's state (RFC 3261 §12): identifiers, the two header values with
// their tags, the remote target and the route set, the CSeq spaces; and how
// a request inside it is addressed (loose routing, strict routers handled
// as §12.2.1.1 says).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sip/messages.h"
#include "sip/ua_core.h"

namespace mapgw::sip {

struct Dialog {
  std::string call_id;
  std::string local_tag, remote_tag;
  std::string local_header;   // our From (UAC) or To (UAS) value, with our tag
  std::string remote_header;  // theirs, with their tag
  std::string remote_target;  // the peer's Contact URI
  std::vector<std::string> route_set;  // Route values, in the order they are sent
  uint32_t local_cseq = 0;
  std::optional<uint32_t> remote_cseq;

  // The UAC's view from the 2xx (or 1xx with a tag) to its INVITE.
  static Result<Dialog> from_response(const osip_message_t* response);
  // The UAS's view from the INVITE and the To tag it answers with.
  static Result<Dialog> from_request(const osip_message_t* invite, const std::string& local_tag);

  // A request in this dialog with the next CSeq (or @cseq when given: ACK
  // and CANCEL reuse the INVITE's) and the endpoint it goes to.
  struct Outgoing {
    RequestSpec spec;
    Endpoint next_hop;
  };
  Result<Outgoing> request(const UaCore& core, const std::string& method,
                           std::optional<uint32_t> cseq = std::nullopt);
};

// The endpoint a URI (a Route value or a target) points at: host and port
// (5060 by default), numeric or resolved.
Result<Endpoint> endpoint_of_uri(const std::string& uri_or_route);

}  // namespace mapgw::sip
