#include "tools/llmcc/token_ids.h"

#include <climits>
#include <sstream>
#include <stdexcept>

#include "support/error.h"

namespace llmcc::cli {

std::vector<int32_t> parse_token_ids(const std::string& text, const char* what) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t start = item.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (item.find_first_not_of(' ', used) != std::string::npos) throw std::invalid_argument(item);
      if (v < INT32_MIN || v > INT32_MAX) throw std::out_of_range(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      user_error("{}: '{}' is not a token id", what, item);
    }
  }
  return ids;
}

}  // namespace llmcc::cli
