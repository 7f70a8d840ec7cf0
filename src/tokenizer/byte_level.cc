#include "tokenizer/byte_level.h"

#include <array>
#include <map>

#include "tokenizer/utf8.h"

namespace llmcc::byte_level {

namespace {

struct Tables {
  std::array<std::string, 256> to_char;
  std::map<std::string, unsigned char> to_byte;
  Tables() {
    // Printable Latin-1 bytes stand for themselves; the others are shifted above 255.
    int shifted = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + shifted++);
      std::string c;
      utf8::append(c, cp);
      to_char[b] = c;
      to_byte[c] = static_cast<unsigned char>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::string& char_of_byte(unsigned char b) { return tables().to_char[b]; }

std::string encode(const std::string& s) {
  std::string out;
  for (unsigned char b : s) out += tables().to_char[b];
  return out;
}

std::string decode(const std::string& s) {
  std::string out;
  for (const auto& c : utf8::chars(s)) {
    auto it = tables().to_byte.find(c);
    out += it == tables().to_byte.end() ? c : std::string(1, static_cast<char>(it->second));
  }
  return out;
}

}  // namespace llmcc::byte_level
