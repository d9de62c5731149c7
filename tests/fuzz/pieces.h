// The fuzz targets' inputs carry several datagrams or frames, split at
// "\0\0": takes the next one off @in (all of it when no separator is left).
#pragma once

#include <string_view>

inline std::string_view next_piece(std::string_view& in) {
  const size_t cut = in.find(std::string_view("\0\0", 2));
  const std::string_view one = in.substr(0, cut);
  in = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 2);
  return one;
}
