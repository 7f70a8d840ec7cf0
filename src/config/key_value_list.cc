#include "config/key_value_list.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "support/error.h"

namespace llmcc {

namespace {

std::string resolve_key(const std::string& key, const std::vector<std::string>& fields,
                        const std::string& what) {
  std::vector<std::string> matches;
  for (const auto& f : fields) {
    if (f == key) return f;
    if (f.rfind(key, 0) == 0) matches.push_back(f);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty())
    user_error("{}: unknown key '{}'; valid keys: {}", what, key, fmt::join(fields, ", "));
  user_error("{}: key '{}' is ambiguous: {}", what, key, fmt::join(matches, ", "));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_key_value_list(
    const std::string& text, const std::vector<std::string>& fields, const std::string& what) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      user_error("{}: expected 'key=value', got '{}' in '{}'", what, item, text);
    out.emplace_back(resolve_key(item.substr(0, eq), fields, what), item.substr(eq + 1));
  }
  return out;
}

}  // namespace llmcc
