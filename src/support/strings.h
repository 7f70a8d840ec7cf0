// Small string helpers shared across the project.
#pragma once

#include <string>
#include <string_view>

namespace llmcc {

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Every occurrence of `from` (non-empty) replaced by `to`, left to right.
inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// `s` without leading and trailing ASCII whitespace (Python's str.strip(), Jinja's trim).
inline std::string trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(ws) - begin + 1));
}

}  // namespace llmcc
