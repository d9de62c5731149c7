#include "agent/config/toml_guard.h"

#include <cstdint>

namespace mapgw {
namespace {

// Length of the well-formed UTF-8 sequence at @p (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0.
size_t utf8_length(std::string_view s, size_t p) {
  const auto b = [&](size_t i) { return i < s.size() ? static_cast<uint8_t>(s[i]) : 0; };
  const auto cont = [&](size_t i) { return (b(i) & 0xC0) == 0x80; };
  const uint8_t c = b(p);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(p + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(p + 1) || !cont(p + 2)) return 0;
    if (c == 0xE0 && b(p + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(p + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(p + 1) || !cont(p + 2) || !cont(p + 3)) return 0;
    if (c == 0xF0 && b(p + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(p + 1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

Status check_toml_text(std::string_view s, const std::string& origin) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } in = In::kCode;
  size_t line = 1, line_start = 0;
  auto at = [&](size_t p) {
    return origin + ":" + std::to_string(line) + ":" + std::to_string(p - line_start + 1) + ": ";
  };
  auto starts = [&](size_t p, std::string_view w) { return s.substr(p, w.size()) == w; };
  for (size_t p = 0; p < s.size();) {
    const char c = s[p];
    if (static_cast<uint8_t>(c) >= 0x80) {
      const size_t n = utf8_length(s, p);
      if (n == 0) return make_error(at(p) + "not valid UTF-8");
      if (in == In::kCode) {
        return make_error(at(p) + "a character beyond ASCII outside a string or comment "
                                  "(keys and values other than strings are ASCII)");
      }
      p += n;
      continue;
    }
    if (c == '\n') {
      ++line;
      line_start = p + 1;
      if (in == In::kComment) in = In::kCode;
      ++p;
      continue;
    }
    switch (in) {
      case In::kCode:
        if (c == '#') in = In::kComment;
        else if (starts(p, "\"\"\"")) in = In::kMultiBasic, p += 2;
        else if (starts(p, "'''")) in = In::kMultiLiteral, p += 2;
        else if (c == '"') in = In::kBasic;
        else if (c == '\'') in = In::kLiteral;
        break;
      case In::kComment:
        break;
      case In::kBasic:
        if (c == '\\') ++p;  // the escaped character, whatever it is
        else if (c == '"') in = In::kCode;
        break;
      case In::kLiteral:
        if (c == '\'') in = In::kCode;
        break;
      case In::kMultiBasic:
        if (c == '\\') ++p;
        else if (starts(p, "\"\"\"")) in = In::kCode, p += 2;
        break;
      case In::kMultiLiteral:
        if (starts(p, "'''")) in = In::kCode, p += 2;
        break;
    }
    ++p;
  }
  return Status::Ok();
}

}  // namespace mapgw
