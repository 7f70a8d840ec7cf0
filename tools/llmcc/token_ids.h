// Token ids given on the command line ("1, 17, 200").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmcc::cli {

// Comma-separated ids; UserError naming `what` and the item that is not an int32.
std::vector<int32_t> parse_token_ids(const std::string& text, const char* what);

}  // namespace llmcc::cli
