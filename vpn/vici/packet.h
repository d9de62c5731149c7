// VICI packets and their framing: a 32-bit big-endian length, then a type
// byte, a name for the named types, and a message. PacketReader takes a
// byte stream in whatever pieces the socket gives and hands out whole
// packets; a length over 512 KiB (charon's own limit) or a packet that does
// not parse is an error that ends the connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vpn/vici/message.h"

namespace mapgw::vici {

enum class PacketType : uint8_t {
  kCmdRequest = 0,
  kCmdResponse = 1,
  kCmdUnknown = 2,
  kEventRegister = 3,
  kEventUnregister = 4,
  kEventConfirm = 5,
  kEventUnknown = 6,
  kEvent = 7,
};

struct Packet {
  PacketType type = PacketType::kCmdRequest;
  std::string name;  // the named types: requests, (un)registrations, events
  Message message;
};

inline constexpr size_t kMaxSegment = 512 * 1024;

bool has_name(PacketType t);
// The framed bytes of a packet.
Result<std::string> frame(const Packet& p);

class PacketReader {
 public:
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next whole packet, nothing yet (nullopt), or an error.
  Result<std::optional<Packet>> next();
  size_t buffered() const { return buf_.size(); }

 private:
  std::string buf_;
};

}  // namespace mapgw::vici
