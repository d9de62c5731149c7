// Result and error codes of StopCCN and CDN (RFC 2661 §4.4.2), and the
// AVPs each message must carry (§6): the tunnel and its sessions check
// incoming messages against these lists and answer with these codes.
#pragma once

#include <cstdint>
#include <vector>

#include "vpn/l2tp/avp.h"

namespace mapgw::l2tp {

namespace stopccn {
constexpr uint16_t kClear = 1, kGeneralError = 2, kAlreadyExists = 3, kNotAuthorized = 4,
                   kBadVersion = 5, kShuttingDown = 6, kFsmError = 7;
}
namespace cdn {
constexpr uint16_t kLostCarrier = 1, kGeneralError = 2, kAdministrative = 3, kNoResourcesNow = 4,
                   kNoResources = 5;
}
namespace error {
constexpr uint16_t kNone = 0, kNoControlConnection = 1, kBadLength = 2, kBadValue = 3, kNoResources = 4,
                   kBadSessionId = 5, kVendor = 6, kTryAnother = 7, kUnknownMandatoryAvp = 8;
}

// The AVPs (besides the Message Type) a message must carry.
inline std::vector<uint16_t> required_avps(MessageType t) {
  switch (t) {
    case MessageType::kSccrq:
      return {avp::kProtocolVersion, avp::kHostName, avp::kFramingCapabilities, avp::kAssignedTunnelId};
    case MessageType::kStopCcn: return {avp::kAssignedTunnelId, avp::kResultCode};
    case MessageType::kIcrq: return {avp::kAssignedSessionId, avp::kCallSerialNumber};
    case MessageType::kIccn: return {avp::kTxConnectSpeed, avp::kFramingType};
    case MessageType::kCdn: return {avp::kResultCode, avp::kAssignedSessionId};
    case MessageType::kWen: return {avp::kCallErrors};
    case MessageType::kSli: return {avp::kAccm};
    default: return {};
  }
}

}  // namespace mapgw::l2tp
