// Small readers shared by the TOML section parsers: a "file:line:col: "
// prefix for messages, unknown-key rejection, and typed reads with a
// default.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <set>
#include <string>

#include "loader/result.h"

namespace mapgw {

// Location prefix "file:line:col: " for messages about a TOML node.
inline std::string where(const std::string& origin, const toml::node& n) {
  const auto& s = n.source();
  return origin + ":" + std::to_string(s.begin.line) + ":" + std::to_string(s.begin.column) + ": ";
}

inline Status only_keys(const toml::table& t, const std::set<std::string>& allowed,
                 const std::string& origin, const std::string& section) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(std::string(k.str()))) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return make_error(where(origin, v) + "unknown key '" + std::string(k.str()) + "' in " +
                        section + " (known: " + list + ")");
    }
  }
  return Status::Ok();
}

template <typename T>
Result<T> get(const toml::table& t, const char* key, const std::string& origin,
              const std::string& section, std::optional<T> fallback) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (fallback) return *fallback;
    return make_error(origin + ": " + section + " needs '" + key + "'");
  }
  auto v = n->value<T>();
  if (!v) {
    return make_error(where(origin, *n) + "'" + key + "' in " + section + " has the wrong type");
  }
  return *v;
}

}  // namespace mapgw
