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
  std::string out;
  for (const auto& c : utf8::chars(bytes)) {
    unsigned char b = static_cast<unsigned char>(c[0]);
    // utf8::chars yields valid characters whole and anything else one byte at a time.
    if (c.size() == 1 && b >= 0x80) out += "\xEF\xBF\xBD";
    else out += c;
  }
  return out;
}

std::string StreamDecoder::push(int32_t id) {
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
