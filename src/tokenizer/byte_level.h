// GPT-2's byte-to-unicode table: byte-level BPE vocabularies spell every byte as a printable
// character ("Ġ" for a space), so any byte string can be tokenized without unknown tokens.
#pragma once

#include <string>

namespace llmcc::byte_level {

// The character (UTF-8) that stands for byte `b`.
const std::string& char_of_byte(unsigned char b);
// Maps every byte of `s` to its character.
std::string encode(const std::string& s);
// Maps characters back to bytes; characters outside the table are kept as they are.
std::string decode(const std::string& s);

}  // namespace llmcc::byte_level
