// UTF-8 helpers for the tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmcc::utf8 {

// Appends the UTF-8 encoding of code point `cp`.
void append(std::string& out, uint32_t cp);
// Splits `s` into its characters (each a UTF-8 substring). Invalid bytes become single-byte
// "characters" so that nothing is lost.
std::vector<std::string> chars(const std::string& s);
// Length of the longest prefix of `s` that ends on a complete UTF-8 character.
size_t complete_prefix(const std::string& s);

}  // namespace llmcc::utf8
