// The L2TPv2 header (RFC 2661 §3.1) for control and data messages, and the
// control message as the LNS sees it: header fields plus its AVPs, the
// first of which must be the Message Type (§4.4.1). ZLB acknowledgements
// are control messages without AVPs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"
#include "vpn/l2tp/avp.h"

namespace mapgw::l2tp {

constexpr size_t kControlHeader = 12;  // T L S set: flags, length, tunnel, session, Ns, Nr

struct Header {
  bool control = false;
  bool has_length = false, has_sequence = false, has_offset = false, priority = false;
  uint16_t length = 0;  // when has_length
  uint16_t tunnel = 0, session = 0;
  uint16_t ns = 0, nr = 0;  // when has_sequence
  size_t payload_at = 0;    // where the AVPs or the PPP frame start
};

// Reads the header of @packet: version 2 only (version 3 is L2TPv3, 1 is
// L2F: refused), a control message must have L and S set and no offset
// (§3.1), lengths must fit. Errors name what is wrong.
Result<Header> parse_header(std::string_view packet);

struct ControlMessage {
  uint16_t tunnel = 0, session = 0, ns = 0, nr = 0;
  std::vector<Avp> avps;  // empty: a ZLB

  bool zlb() const { return avps.empty(); }
  // The Message Type AVP's value; nullopt for a ZLB.
  std::optional<uint16_t> type() const;
  const Avp* find(uint16_t type, uint16_t vendor = 0) const;
};

// A whole control message: the header, then the AVPs (hidden ones revealed
// with @secret). The Message Type must come first, be mandatory and be
// two bytes (§4.4.1).
Result<ControlMessage> parse_control(std::string_view packet, std::string_view secret);
// The wire form with T, L, S set.
Result<std::string> encode_control(const ControlMessage& m, std::string_view secret);

// A data message's header for our side: T=0, L set, no sequence numbers
// (an LNS does not ask for them), then @ppp.
std::string encode_data(uint16_t tunnel, uint16_t session, std::string_view ppp);

}  // namespace mapgw::l2tp
