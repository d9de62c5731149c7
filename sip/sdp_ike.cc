#include "sip/sdp_ike.h"

#include <arpa/inet.h>
#include <osipparser2/osip_list.h>
#include <strings.h>

#include <charconv>

#include "sip/osip_ptr.h"

namespace mapgw::sip {
namespace {

template <typename T>
SdpOutcome<T> refuse(SdpReject r, std::string detail) {
  SdpOutcome<T> o;
  o.reject = r;
  o.detail = std::move(detail);
  return o;
}

// Every line ended by CRLF, as RFC 4566 §5 writes it. libosip2 5.3's
// sdp_message_parse reads past its own buffer on some lines that end in a
// bare LF (found by tests/fuzz/fuzz_sip; corpus sip/libosip2_sdp_bare_lf):
// what reaches it is normalised first.
std::string crlf_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.append(line);
    out += "\r\n";
    start = end + 1;
  }
  return out;
}

bool iequals(const char* a, const char* b) { return a && b && strcasecmp(a, b) == 0; }

std::optional<uint32_t> parse_number(const char* s, uint32_t max) {
  if (!s || !*s) return std::nullopt;
  uint32_t v = 0;
  const char* end = s + std::char_traits<char>::length(s);
  auto [p, ec] = std::from_chars(s, end, v);
  if (ec != std::errc() || p != end || v > max) return std::nullopt;
  return v;
}

// The values of attribute @name at media level 0, else at session level.
std::vector<std::string> attribute_values(sdp_message_t* sdp, const char* name) {
  std::vector<std::string> out;
  for (int level : {0, -1}) {
    for (int i = 0;; ++i) {
      sdp_attribute_t* a = sdp_message_attribute_get(sdp, level, i);
      if (!a) break;
      if (iequals(a->a_att_field, name)) out.emplace_back(a->a_att_value ? a->a_att_value : "");
    }
    if (!out.empty()) break;
  }
  return out;
}

// An optional fingerprint attribute: absent, one well-formed, or a refusal.
SdpReject read_fingerprint(sdp_message_t* sdp, const char* name, std::optional<Fingerprint>& out,
                           std::string& detail) {
  const auto values = attribute_values(sdp, name);
  if (values.empty()) return SdpReject::kNone;
  if (values.size() > 1) {
    detail = std::string("more than one a=") + name;
    return SdpReject::kBadFingerprint;
  }
  auto fp = parse_fingerprint(values[0]);
  if (!fp) {
    detail = std::string("a=") + name + ": " + fp.error().message;
    return SdpReject::kBadFingerprint;
  }
  out = *fp;
  return SdpReject::kNone;
}

// The endpoint's role and auth as the rules see them, after structure.
SdpReject common_auth_checks(const IkeMedia& m, std::string& detail) {
  if (m.cert_fingerprint && m.psk_fingerprint) {
    detail = "both a=fingerprint and a=psk-fingerprint";
    return SdpReject::kBothAuth;
  }
  return SdpReject::kNone;
}

// Password mode: a client needs the server's certificate fingerprint to
// check what IKE_AUTH presents (TS-1017 §4.1.2.5).
bool take_server_cert(IkePeer& peer, const IkeMedia& far) {
  peer.auth = IkeAuth::kPassword;
  if (peer.local_role == VpnRole::kServer) return true;
  if (!far.cert_fingerprint) return false;
  peer.server_cert = far.cert_fingerprint;
  return true;
}

// The far endpoint's address and port complete the terms.
SdpOutcome<IkePeer> settled(IkePeer peer, const IkeMedia& far) {
  peer.address = far.address;
  peer.ipv6 = far.ipv6;
  peer.port = far.port;
  peer.bandwidth_kbps = far.bandwidth_kbps;
  SdpOutcome<IkePeer> ok;
  ok.value = std::move(peer);
  return ok;
}

}  // namespace

const char* to_string(IkeSetup s) {
  switch (s) {
    case IkeSetup::kActive: return "active";
    case IkeSetup::kPassive: return "passive";
    case IkeSetup::kActPass: return "actpass";
  }
  return "?";
}
const char* to_string(IkeAuth a) { return a == IkeAuth::kPassword ? "password" : "psk"; }
const char* to_string(VpnRole r) { return r == VpnRole::kClient ? "client" : "server"; }

const char* to_string(SdpReject r) {
  switch (r) {
    case SdpReject::kNone: return "none";
    case SdpReject::kUnparsable: return "unparsable";
    case SdpReject::kMediaCount: return "media_count";
    case SdpReject::kIkeEsp: return "ike_esp";
    case SdpReject::kNotIke: return "not_ike";
    case SdpReject::kNoConnection: return "no_connection";
    case SdpReject::kBadPort: return "bad_port";
    case SdpReject::kBadSetup: return "bad_setup";
    case SdpReject::kBadFingerprint: return "bad_fingerprint";
    case SdpReject::kBothAuth: return "both_auth";
    case SdpReject::kRoleUnsupported: return "role_unsupported";
    case SdpReject::kPasswordUnsupported: return "password_unsupported";
    case SdpReject::kPskUnsupported: return "psk_unsupported";
    case SdpReject::kNoServerCertificate: return "no_server_certificate";
    case SdpReject::kUnknownPsk: return "unknown_psk";
    case SdpReject::kSetupMismatch: return "setup_mismatch";
    case SdpReject::kAuthMismatch: return "auth_mismatch";
  }
  return "?";
}

const char* clause(SdpReject r) {
  switch (r) {
    case SdpReject::kNone: return "";
    case SdpReject::kUnparsable: return "RFC 4566";
    case SdpReject::kMediaCount: return "TS-1017 §4.1.2";
    case SdpReject::kIkeEsp: return "TS-1017 §4.1.2.1";
    case SdpReject::kNotIke: return "RFC 6193 §3";
    case SdpReject::kNoConnection: return "RFC 4566 §5.7";
    case SdpReject::kBadPort: return "TS-1017 §4.1.2.2";
    case SdpReject::kBadSetup: return "TS-1017 §4.1.2.4";
    case SdpReject::kBadFingerprint: return "RFC 4572 §5";
    case SdpReject::kBothAuth: return "TS-1017 §3.4";
    case SdpReject::kRoleUnsupported: return "TS-1017 §4.1.2.4";
    case SdpReject::kPasswordUnsupported: return "TS-1017 §4.1.2.5";
    case SdpReject::kPskUnsupported: return "TS-1017 §4.1.2.6";
    case SdpReject::kNoServerCertificate: return "TS-1017 §4.1.2.5";
    case SdpReject::kUnknownPsk: return "TS-1017 §3.4.2";
    case SdpReject::kSetupMismatch: return "RFC 6193 §4";
    case SdpReject::kAuthMismatch: return "TS-1017 §3.4";
  }
  return "";
}

SdpOutcome<IkeMedia> parse_ike_sdp(std::string_view text) {
  sdp_message_t* raw = nullptr;
  if (sdp_message_init(&raw) != 0) return refuse<IkeMedia>(SdpReject::kUnparsable, "out of memory");
  SdpPtr sdp(raw);
  const std::string copy = crlf_lines(text);  // libosip2 wants a C string
  if (copy.size() != std::char_traits<char>::length(copy.c_str()) ||
      sdp_message_parse(sdp.get(), copy.c_str()) != 0) {
    return refuse<IkeMedia>(SdpReject::kUnparsable, "libosip2 cannot parse the SDP");
  }
  const int medias = osip_list_size(&sdp->m_medias);
  if (medias != 1) {
    return refuse<IkeMedia>(SdpReject::kMediaCount, std::to_string(medias) + " media descriptions");
  }
  const char* media = sdp_message_m_media_get(sdp.get(), 0);
  const char* proto = sdp_message_m_proto_get(sdp.get(), 0);
  const char* fmt = sdp_message_m_payload_get(sdp.get(), 0, 0);
  const bool one_fmt = fmt && !sdp_message_m_payload_get(sdp.get(), 0, 1);
  if (iequals(fmt, "ike-esp")) return refuse<IkeMedia>(SdpReject::kIkeEsp, "fmt ike-esp");
  if (!iequals(media, "application") || !iequals(proto, "udp") || !one_fmt ||
      !iequals(fmt, "ike-esp-udpencap")) {
    return refuse<IkeMedia>(SdpReject::kNotIke, std::string("m=") + (media ? media : "") + " " +
                                                    (proto ? proto : "") + " " + (fmt ? fmt : ""));
  }
  IkeMedia m;
  const auto port = parse_number(sdp_message_m_port_get(sdp.get(), 0), 65535);
  if (!port || *port == 0 || sdp_message_m_number_of_port_get(sdp.get(), 0)) {
    return refuse<IkeMedia>(SdpReject::kBadPort, "m= port is not one port in 1..65535");
  }
  m.port = static_cast<uint16_t>(*port);

  sdp_connection_t* c = sdp_message_connection_get(sdp.get(), 0, 0);
  if (!c) c = sdp_message_connection_get(sdp.get(), -1, 0);
  if (!c || !iequals(c->c_nettype, "IN") || !c->c_addr) {
    return refuse<IkeMedia>(SdpReject::kNoConnection, "no c=IN line");
  }
  m.ipv6 = iequals(c->c_addrtype, "IP6");
  if (!m.ipv6 && !iequals(c->c_addrtype, "IP4")) {
    return refuse<IkeMedia>(SdpReject::kNoConnection, "c= address type is not IP6 or IP4");
  }
  unsigned char buf[16];
  if (inet_pton(m.ipv6 ? AF_INET6 : AF_INET, c->c_addr, buf) != 1) {
    return refuse<IkeMedia>(SdpReject::kNoConnection,
                            std::string("c= address '") + c->c_addr + "' is not an address");
  }
  m.address = c->c_addr;

  for (int level : {0, -1}) {
    for (int i = 0;; ++i) {
      sdp_bandwidth_t* b = sdp_message_bandwidth_get(sdp.get(), level, i);
      if (!b) break;
      if (iequals(b->b_bwtype, "AS")) m.bandwidth_kbps = parse_number(b->b_bandwidth, UINT32_MAX);
    }
    if (m.bandwidth_kbps) break;
  }

  const auto setup = attribute_values(sdp.get(), "ike-setup");
  if (setup.size() != 1) {
    return refuse<IkeMedia>(SdpReject::kBadSetup,
                            setup.empty() ? "no a=ike-setup" : "more than one a=ike-setup");
  }
  if (strcasecmp(setup[0].c_str(), "active") == 0) {
    m.setup = IkeSetup::kActive;
  } else if (strcasecmp(setup[0].c_str(), "passive") == 0) {
    m.setup = IkeSetup::kPassive;
  } else if (strcasecmp(setup[0].c_str(), "actpass") == 0) {
    m.setup = IkeSetup::kActPass;
  } else {
    return refuse<IkeMedia>(SdpReject::kBadSetup, "a=ike-setup:" + setup[0]);
  }

  std::string detail;
  if (auto r = read_fingerprint(sdp.get(), "fingerprint", m.cert_fingerprint, detail);
      r != SdpReject::kNone) {
    return refuse<IkeMedia>(r, detail);
  }
  if (auto r = read_fingerprint(sdp.get(), "psk-fingerprint", m.psk_fingerprint, detail);
      r != SdpReject::kNone) {
    return refuse<IkeMedia>(r, detail);
  }
  SdpOutcome<IkeMedia> ok;
  ok.value = std::move(m);
  return ok;
}

SdpOutcome<IkePeer> accept_offer(const IkeCapabilities& caps, std::string_view offer_sdp) {
  auto parsed = parse_ike_sdp(offer_sdp);
  if (!parsed.ok()) return refuse<IkePeer>(parsed.reject, parsed.detail);
  const IkeMedia& offer = parsed.value;
  std::string detail;
  if (auto r = common_auth_checks(offer, detail); r != SdpReject::kNone) {
    return refuse<IkePeer>(r, detail);
  }
  IkePeer peer;
  switch (offer.setup) {
    case IkeSetup::kActive: peer.local_role = VpnRole::kServer; break;
    case IkeSetup::kPassive: peer.local_role = VpnRole::kClient; break;
    case IkeSetup::kActPass:
      peer.local_role = caps.client ? VpnRole::kClient : VpnRole::kServer;
      break;
  }
  if (peer.local_role == VpnRole::kServer && !caps.server) {
    return refuse<IkePeer>(SdpReject::kRoleUnsupported, "offered active to a client-only endpoint");
  }
  if (peer.local_role == VpnRole::kClient && !caps.client) {
    return refuse<IkePeer>(SdpReject::kRoleUnsupported, "offered passive to a server-only endpoint");
  }
  if (offer.psk_fingerprint) {
    if (!caps.psk) {
      return refuse<IkePeer>(SdpReject::kPskUnsupported, "a=psk-fingerprint to a password-only endpoint");
    }
    if (!caps.known_psks.empty()) {
      bool known = false;
      for (const auto& k : caps.known_psks) known = known || k == *offer.psk_fingerprint;
      if (!known) {
        return refuse<IkePeer>(SdpReject::kUnknownPsk, "no PSK with " + offer.psk_fingerprint->str());
      }
    }
    peer.auth = IkeAuth::kPsk;
    peer.peer_psk = offer.psk_fingerprint;
  } else {
    // No PSK named: the offerer asks for password authentication.
    if (!caps.password) {
      return refuse<IkePeer>(SdpReject::kPasswordUnsupported,
                             offer.cert_fingerprint ? "a=fingerprint to a PSK-only endpoint"
                                                    : "no a=psk-fingerprint for a PSK-only endpoint");
    }
    if (!take_server_cert(peer, offer)) {
      return refuse<IkePeer>(SdpReject::kNoServerCertificate, "server offered no a=fingerprint");
    }
  }
  return settled(std::move(peer), offer);
}

SdpOutcome<IkePeer> accept_answer(const IkeMedia& our_offer, std::string_view answer_sdp) {
  auto parsed = parse_ike_sdp(answer_sdp);
  if (!parsed.ok()) return refuse<IkePeer>(parsed.reject, parsed.detail);
  const IkeMedia& answer = parsed.value;
  std::string detail;
  if (auto r = common_auth_checks(answer, detail); r != SdpReject::kNone) {
    return refuse<IkePeer>(r, detail);
  }
  IkePeer peer;
  if (answer.setup == IkeSetup::kActPass) {
    return refuse<IkePeer>(SdpReject::kBadSetup, "actpass in an answer");
  }
  if (answer.setup == our_offer.setup) {
    return refuse<IkePeer>(SdpReject::kSetupMismatch,
                           std::string("both sides ") + to_string(answer.setup));
  }
  peer.local_role = answer.setup == IkeSetup::kActive ? VpnRole::kServer : VpnRole::kClient;
  if (our_offer.psk_fingerprint) {
    if (!answer.psk_fingerprint) {
      return refuse<IkePeer>(SdpReject::kAuthMismatch, "PSK offered, no a=psk-fingerprint answered");
    }
    peer.auth = IkeAuth::kPsk;
    peer.peer_psk = answer.psk_fingerprint;
  } else {
    if (answer.psk_fingerprint) {
      return refuse<IkePeer>(SdpReject::kAuthMismatch, "password offered, a=psk-fingerprint answered");
    }
    if (!take_server_cert(peer, answer)) {
      return refuse<IkePeer>(SdpReject::kNoServerCertificate, "server answered no a=fingerprint");
    }
  }
  return settled(std::move(peer), answer);
}

std::string build_ike_sdp(const IkeMedia& self, uint64_t session_id, uint64_t version) {
  const char* type = self.ipv6 ? "IP6" : "IP4";
  std::string s;
  s += "v=0\r\n";
  s += "o=- " + std::to_string(session_id) + " " + std::to_string(version) + " IN " + type + " " +
       self.address + "\r\n";
  s += "s=-\r\n";
  s += std::string("c=IN ") + type + " " + self.address + "\r\n";
  s += "t=0 0\r\n";
  s += "m=application " + std::to_string(self.port) + " udp ike-esp-udpencap\r\n";
  if (self.bandwidth_kbps) s += "b=AS:" + std::to_string(*self.bandwidth_kbps) + "\r\n";
  s += std::string("a=ike-setup:") + to_string(self.setup) + "\r\n";
  if (self.cert_fingerprint) s += "a=fingerprint:" + self.cert_fingerprint->str() + "\r\n";
  if (self.psk_fingerprint) s += "a=psk-fingerprint:" + self.psk_fingerprint->str() + "\r\n";
  return s;
}

}  // namespace mapgw::sip
