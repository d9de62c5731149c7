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

}  // namespace mapgw
