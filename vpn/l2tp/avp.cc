#include "vpn/l2tp/avp.h"

#include <openssl/evp.h>

namespace mapgw::l2tp {
namespace {

using bytes::rd16;

constexpr uint16_t kBitMandatory = 0x8000, kBitHidden = 0x4000, kReservedBits = 0x3c00, kLengthMask = 0x03ff;

std::string md5(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

// The XOR stream of §4.3 applied to @in: 16 bytes at a time, each block's
// key the MD5 of (type, secret, vector) first, then of (secret, the
// previous ciphertext block).
std::string md5_chain(uint16_t type, std::string_view in, std::string_view secret, std::string_view vector,
                      bool revealing) {
  std::string out(in.size(), '\0');
  std::string key = md5(be16(type) + std::string(secret) + std::string(vector));
  for (size_t at = 0; at < in.size(); at += 16) {
    const size_t n = std::min<size_t>(16, in.size() - at);
    for (size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>(in[at + i] ^ key[i]);
    // The next key chains on the ciphertext: the input when revealing.
    const std::string_view cipher = revealing ? in.substr(at, n) : std::string_view(out).substr(at, n);
    key = md5(std::string(secret) + std::string(cipher));
  }
  return out;
}

std::string avp_name(uint16_t vendor, uint16_t type) {
  return "AVP " + std::to_string(type) + (vendor ? " of vendor " + std::to_string(vendor) : "");
}

}  // namespace

const char* to_string(MessageType t) {
  switch (t) {
    case MessageType::kSccrq: return "SCCRQ";
    case MessageType::kSccrp: return "SCCRP";
    case MessageType::kScccn: return "SCCCN";
    case MessageType::kStopCcn: return "StopCCN";
    case MessageType::kHello: return "HELLO";
    case MessageType::kOcrq: return "OCRQ";
    case MessageType::kOcrp: return "OCRP";
    case MessageType::kOccn: return "OCCN";
    case MessageType::kIcrq: return "ICRQ";
    case MessageType::kIcrp: return "ICRP";
    case MessageType::kIccn: return "ICCN";
    case MessageType::kCdn: return "CDN";
    case MessageType::kWen: return "WEN";
    case MessageType::kSli: return "SLI";
  }
  return "?";
}

bool known_message_type(uint16_t raw) {
  return std::string_view(to_string(static_cast<MessageType>(raw))) != "?";
}

std::optional<uint16_t> Avp::u16() const {
  if (value.size() != 2) return std::nullopt;
  return rd16(value, 0);
}

std::optional<uint32_t> Avp::u32() const {
  if (value.size() != 4) return std::nullopt;
  return bytes::rd32(value);
}

std::optional<uint64_t> Avp::u64() const {
  if (value.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : value) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

Avp make_avp(uint16_t type, std::string value, bool mandatory) {
  Avp a;
  a.type = type;
  a.value = std::move(value);
  a.mandatory = mandatory;
  return a;
}

std::string hide_value(uint16_t type, std::string_view value, std::string_view secret, std::string_view vector,
                       std::string_view pad) {
  const std::string sub = be16(static_cast<uint16_t>(value.size())) + std::string(value) + std::string(pad);
  return md5_chain(type, sub, secret, vector, false);
}

Result<std::string> reveal_value(uint16_t type, std::string_view hidden, std::string_view secret,
                                 std::string_view vector) {
  const std::string sub = md5_chain(type, hidden, secret, vector, true);
  if (sub.size() < 2) return make_error("hidden " + avp_name(0, type) + ": shorter than its length field");
  const uint16_t len = rd16(sub, 0);
  if (len > sub.size() - 2) {
    return make_error("hidden " + avp_name(0, type) + ": revealed length " + std::to_string(len) +
                      " past its " + std::to_string(sub.size() - 2) + " bytes (wrong secret?)");
  }
  return sub.substr(2, len);
}

Result<std::vector<Avp>> decode_avps(std::string_view body, std::string_view secret) {
  std::vector<Avp> out;
  std::string vector;  // the latest Random Vector
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < kAvpHeader) {
      return make_error("AVP header cut at byte " + std::to_string(at) + " of " + std::to_string(body.size()));
    }
    const uint16_t bits = rd16(body, at);
    const size_t len = bits & kLengthMask;
    Avp a;
    a.mandatory = bits & kBitMandatory;
    a.hidden = bits & kBitHidden;
    a.vendor = rd16(body, at + 2);
    a.type = rd16(body, at + 4);
    if (len < kAvpHeader || len > body.size() - at) {
      return make_error(avp_name(a.vendor, a.type) + ": length " + std::to_string(len) + " at byte " +
                        std::to_string(at) + " (" + std::to_string(body.size() - at) + " left)");
    }
    if (bits & kReservedBits) {
      // §4.1: reserved bits set → treat as an unrecognised AVP; a mandatory
      // one ends the tunnel, which the caller decides from `mandatory`.
      a.vendor = 0xffff;
    }
    const std::string_view value = body.substr(at + kAvpHeader, len - kAvpHeader);
    if (a.hidden) {
      if (secret.empty()) return make_error("hidden " + avp_name(a.vendor, a.type) + " but no tunnel secret");
      if (vector.empty()) return make_error("hidden " + avp_name(a.vendor, a.type) + " without a Random Vector before it");
      auto plain = reveal_value(a.type, value, secret, vector);
      if (!plain) return plain.error();
      a.value = std::move(*plain);
    } else {
      a.value = std::string(value);
    }
    if (a.vendor == 0 && a.type == avp::kRandomVector) vector = a.value;
    out.push_back(std::move(a));
    at += len;
  }
  return out;
}

Result<std::string> encode_avps(const std::vector<Avp>& avps, std::string_view secret) {
  std::string out;
  std::string vector;
  for (const auto& a : avps) {
    std::string value = a.value;
    if (a.hidden) {
      if (secret.empty() || vector.empty()) {
        return make_error("hiding " + avp_name(a.vendor, a.type) + " needs a secret and a Random Vector before it");
      }
      value = hide_value(a.type, a.value, secret, vector);
    }
    if (a.vendor == 0 && a.type == avp::kRandomVector) vector = a.value;
    const size_t len = kAvpHeader + value.size();
    if (len > kAvpMaxLength) {
      return make_error(avp_name(a.vendor, a.type) + ": " + std::to_string(len) + " bytes, over the 1023 an AVP holds");
    }
    const uint16_t bits = static_cast<uint16_t>((a.mandatory ? kBitMandatory : 0) | (a.hidden ? kBitHidden : 0) | len);
    out += be16(bits) + be16(a.vendor) + be16(a.type) + value;
  }
  return out;
}

}  // namespace mapgw::l2tp
