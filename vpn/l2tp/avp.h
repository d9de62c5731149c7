// L2TPv2 attribute-value pairs (RFC 2661 §4.1, §4.4; seed 003): the
// types this LNS reads or writes, the AVP header (M and H bits, 10-bit
// length, vendor, type) and hidden AVPs (§4.3: the value XORed with an
// MD5 chain over the attribute type, the tunnel secret and the Random
// Vector that precedes it in the message).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loader/result.h"
#include "vpn/bytes.h"

namespace mapgw::l2tp {

enum class MessageType : uint16_t {
  kSccrq = 1, kSccrp = 2, kScccn = 3, kStopCcn = 4, kHello = 6,
  kOcrq = 7, kOcrp = 8, kOccn = 9, kIcrq = 10, kIcrp = 11, kIccn = 12,
  kCdn = 14, kWen = 15, kSli = 16,
};
const char* to_string(MessageType t);  // "?" for a type RFC 2661 does not define
bool known_message_type(uint16_t raw);

// IETF attribute types (vendor 0), RFC 2661 §4.4.
namespace avp {
constexpr uint16_t kMessageType = 0, kResultCode = 1, kProtocolVersion = 2, kFramingCapabilities = 3,
                   kBearerCapabilities = 4, kTieBreaker = 5, kFirmwareRevision = 6, kHostName = 7,
                   kVendorName = 8, kAssignedTunnelId = 9, kReceiveWindowSize = 10, kChallenge = 11,
                   kQ931CauseCode = 12, kChallengeResponse = 13, kAssignedSessionId = 14,
                   kCallSerialNumber = 15, kMinimumBps = 16, kMaximumBps = 17, kBearerType = 18,
                   kFramingType = 19, kCalledNumber = 21, kCallingNumber = 22, kSubAddress = 23,
                   kTxConnectSpeed = 24, kPhysicalChannelId = 25, kInitialReceivedLcpConfreq = 26,
                   kLastSentLcpConfreq = 27, kLastReceivedLcpConfreq = 28, kProxyAuthenType = 29,
                   kProxyAuthenName = 30, kProxyAuthenChallenge = 31, kProxyAuthenId = 32,
                   kProxyAuthenResponse = 33, kCallErrors = 34, kAccm = 35, kRandomVector = 36,
                   kPrivateGroupId = 37, kRxConnectSpeed = 38, kSequencingRequired = 39;
constexpr uint16_t kLastKnown = 39;
}  // namespace avp

struct Avp {
  bool mandatory = false;
  bool hidden = false;   // as received (the value is already revealed) or to be hidden on encode
  uint16_t vendor = 0;
  uint16_t type = 0;
  std::string value;     // the plain value

  // Big-endian readers for the fixed-size values; nullopt when the size is wrong.
  std::optional<uint16_t> u16() const;
  std::optional<uint32_t> u32() const;
  std::optional<uint64_t> u64() const;
};

constexpr size_t kAvpHeader = 6;
constexpr size_t kAvpMaxLength = 1023;  // the 10-bit length field

// Values of the common shapes.
using bytes::be16;
using bytes::be32;
Avp make_avp(uint16_t type, std::string value, bool mandatory = true);

// The AVPs of a control message body, in order. Hidden AVPs are revealed
// with @secret and the latest Random Vector; a hidden AVP without either,
// a length past the end or under 6, a revealed length past its value, are
// errors naming the AVP.
Result<std::vector<Avp>> decode_avps(std::string_view body, std::string_view secret);

// Writes the AVPs; those with `hidden` set are hidden with @secret and the
// latest Random Vector AVP before them (one must precede them).
Result<std::string> encode_avps(const std::vector<Avp>& avps, std::string_view secret);

// The hiding of one value (RFC 2661 §4.3), exposed for tests: the
// subformat (original length, value, @pad bytes of padding) XORed with
// MD5(type + secret + vector), MD5(secret + c1), ...
std::string hide_value(uint16_t type, std::string_view value, std::string_view secret, std::string_view vector,
                       std::string_view pad = {});
Result<std::string> reveal_value(uint16_t type, std::string_view hidden, std::string_view secret,
                                 std::string_view vector);

}  // namespace mapgw::l2tp
