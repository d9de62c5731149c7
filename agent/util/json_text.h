// JSON to text without the one way nlohmann can throw while writing: a
// string that is not valid UTF-8 (a byte of a command-line argument, half a
// character in a config error message) comes out with U+FFFD in its place
// instead of a type_error that would abort a CLI or kill the daemon.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace mapgw {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A field of a daemon reply for a table cell: strings as they are, other
// values as JSON text, @fallback when absent.
inline std::string json_field(const nlohmann::json& j, const char* key, const char* fallback = "-") {
  if (!j.contains(key)) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : json_text(j[key]);
}

}  // namespace mapgw
