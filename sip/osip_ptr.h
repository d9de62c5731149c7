// Owning pointers for libosip2's C objects, so every early return frees
// what it parsed or built.
#pragma once

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_port.h>
#include <osipparser2/sdp_message.h>

#include <memory>
#include <string>

namespace mapgw::sip {

struct OsipMessageFree {
  void operator()(osip_message_t* m) const { osip_message_free(m); }
};
struct SdpMessageFree {
  void operator()(sdp_message_t* m) const { sdp_message_free(m); }
};
using MessagePtr = std::unique_ptr<osip_message_t, OsipMessageFree>;
using SdpPtr = std::unique_ptr<sdp_message_t, SdpMessageFree>;

// A string libosip2 allocated (osip_*_to_str), taken over and freed.
inline std::string take_osip_string(char* s) {
  if (!s) return {};
  std::string out(s);
  osip_free(s);
  return out;
}

// libosip2 keeps quoted-string parameters with their quotes.
inline std::string unquote(const char* s) {
  if (!s) return {};
  std::string v(s);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace mapgw::sip
