// The "k=v;k=v" syntax shared by --opt and --overrides. MLC feeds each item to argparse as
// "--k=v", so a key may be any unambiguous prefix of a field name; we accept the same.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace llmcc {

// Returns (field, value) pairs with keys resolved to full field names. `what` names the option in
// errors ("--opt"). Empty items are skipped.
std::vector<std::pair<std::string, std::string>> parse_key_value_list(
    const std::string& text, const std::vector<std::string>& fields, const std::string& what);

}  // namespace llmcc
