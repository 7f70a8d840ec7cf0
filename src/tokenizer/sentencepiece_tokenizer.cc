// tokenizer.model files, through Google's SentencePiece library.
#include <sentencepiece_processor.h>

#include "support/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace llmcc {

namespace {

class SentencePieceTokenizer : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::filesystem::path& file) {
    auto status = sp_.Load(file.string());
    if (!status.ok())
      user_error("cannot load SentencePiece model '{}': {}", file.string(), status.ToString());
  }

  std::vector<int32_t> encode(const std::string& text, bool add_special_tokens) const override {
    std::vector<int> ids;
    auto status = sp_.Encode(text, &ids);
    if (!status.ok()) user_error("SentencePiece could not encode the text: {}", status.ToString());
    std::vector<int32_t> out;
    if (add_special_tokens && sp_.bos_id() >= 0) out.push_back(sp_.bos_id());
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override {
    std::vector<int> v;
    for (int32_t id : ids)
      if (!(skip_special && is_special(id))) v.push_back(id);
    std::string text;
    auto status = sp_.Decode(v, &text);
    if (!status.ok()) user_error("SentencePiece could not decode: {}", status.ToString());
    return text;
  }

  // SentencePiece decodes an unfinished byte-fallback character as U+FFFD; for streaming, the
  // bytes of such a trailing character are returned raw instead, so they can be held back.
  std::string decode_bytes(const std::vector<int32_t>& ids) const override {
    size_t k = ids.size();
    while (k > 0 && sp_.IsByte(ids[k - 1])) --k;
    std::string tail;
    for (size_t i = k; i < ids.size(); ++i)
      tail += static_cast<char>(std::stoi(sp_.IdToPiece(ids[i]).substr(3, 2), nullptr, 16));
    const size_t complete = utf8::complete_prefix(tail);
    if (complete == tail.size()) return decode(ids, false);
    const size_t held = tail.size() - complete;  // one id per byte
    return decode(std::vector<int32_t>(ids.begin(), ids.end() - held), false) +
           tail.substr(complete);
  }

  int64_t vocab_size() const override { return sp_.GetPieceSize(); }

  std::optional<int32_t> token_to_id(const std::string& token) const override {
    int id = sp_.PieceToId(token);
    if (id == sp_.unk_id() && token != sp_.IdToPiece(sp_.unk_id())) return std::nullopt;
    return id;
  }

  std::string id_to_token(int32_t id) const override {
    return id >= 0 && id < sp_.GetPieceSize() ? sp_.IdToPiece(id) : "";
  }

  bool is_special(int32_t id) const override { return sp_.IsControl(id) || sp_.IsUnknown(id); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_sentencepiece_file(const std::filesystem::path& file) {
  return std::make_unique<SentencePieceTokenizer>(file);
}

}  // namespace llmcc
