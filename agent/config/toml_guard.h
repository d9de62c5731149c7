// A check of a configuration's text before toml++ sees it. Debian 12's
// toml++ 3.3.0 reaches __builtin_unreachable (undefined behaviour, found by
// UBSan) on some non-ASCII characters where it expects a key or a value.
// So: the text must be valid UTF-8, and characters beyond ASCII may appear
// only inside strings and comments (Japanese comments and names stay
// fine). Everything TOML itself allows elsewhere is ASCII.
#pragma once

#include <string>
#include <string_view>

#include "loader/result.h"

namespace mapgw {

// Ok, or "<origin>:<line>:<column>: ..." naming the first offending byte.
Status check_toml_text(std::string_view text, const std::string& origin);

}  // namespace mapgw
