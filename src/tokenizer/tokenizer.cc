#include "tokenizer/tokenizer.h"

#include "support/error.h"
#include "tokenizer/utf8.h"

namespace llmcc {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> Tokenizer::from_dir(const fs::path& dir) {
  if (fs::exists(dir / "tokenizer.json")) return from_json_file(dir / "tokenizer.json");
  if (fs::exists(dir / "tokenizer.model")) return from_sentencepiece_file(dir / "tokenizer.model");
  user_error("'{}' holds neither tokenizer.json nor tokenizer.model", dir.string());
}

std::string utf8_lossy(const std::string& bytes) {
  // As Rust's String::from_utf8_lossy: a lead byte with too few continuation bytes is replaced,
  // together with the continuations it has, by one U+FFFD; a stray byte by one U+FFFD.
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    unsigned char b = static_cast<unsigned char>(bytes[i]);
    size_t n = b < 0x80             ? 1
               : (b & 0xE0) == 0xC0 ? 2
               : (b & 0xF0) == 0xE0 ? 3
               : (b & 0xF8) == 0xF0 ? 4
                                    : 0;
    size_t k = 0;
    while (n > 1 && k + 1 < n && i + 1 + k < bytes.size() &&
           (static_cast<unsigned char>(bytes[i + 1 + k]) & 0xC0) == 0x80)
      ++k;
    if (n >= 1 && k + 1 == n) {
      out.append(bytes, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += 1 + k;
    }
  }
  return out;
}

std::string StreamDecoder::push(int32_t id) {
  if (skip_special_ && tokenizer_.is_special(id)) return "";
  ids_.push_back(id);
  std::string all = tokenizer_.decode_bytes(ids_);
  size_t ready = utf8::complete_prefix(all);
  if (ready <= emitted_) return "";
  std::string piece = all.substr(emitted_, ready - emitted_);
  emitted_ = ready;
  return utf8_lossy(piece);
}

std::string StreamDecoder::finish() {
  std::string all = tokenizer_.decode_bytes(ids_);
  std::string rest = emitted_ < all.size() ? all.substr(emitted_) : "";
  emitted_ = all.size();
  return utf8_lossy(rest);
}

}  // namespace llmcc
