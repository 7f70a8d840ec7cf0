// Text to token ids and back. Loads a Hugging Face tokenizer.json (byte-level BPE as in GPT-2,
// Llama-3, Qwen2, SmolLM; or Metaspace/SentencePiece-style BPE with byte fallback as in Llama-2,
// TinyLlama, Mistral), or a SentencePiece tokenizer.model.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmcc {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // tokenizer.json if the folder has one, else tokenizer.model. UserError naming the file when
  // neither exists or the file uses a component llmcc does not implement.
  static std::unique_ptr<Tokenizer> from_dir(const std::filesystem::path& dir);
  static std::unique_ptr<Tokenizer> from_json_file(const std::filesystem::path& file);
  static std::unique_ptr<Tokenizer> from_sentencepiece_file(const std::filesystem::path& file);

  // add_special_tokens applies the post-processor (e.g. a leading <s>).
  virtual std::vector<int32_t> encode(const std::string& text,
                                      bool add_special_tokens = false) const = 0;
  // The text of `ids`, invalid UTF-8 replaced by U+FFFD as Hugging Face does.
  virtual std::string decode(const std::vector<int32_t>& ids,
                             bool skip_special_tokens = false) const = 0;
  // The raw bytes of `ids` (no replacement), for streaming.
  virtual std::string decode_bytes(const std::vector<int32_t>& ids) const = 0;

  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
  virtual std::string id_to_token(int32_t id) const = 0;
  virtual bool is_special(int32_t id) const = 0;
};

// Turns a stream of ids into text pieces that never split a UTF-8 character: bytes of an
// unfinished character are held back until it completes. With skip_special_tokens, special
// tokens produce no text, as in Hugging Face's decode(skip_special_tokens=True).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  // The new text that `id` completes (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back, with incomplete characters replaced.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t emitted_ = 0;  // bytes of decode_bytes(ids_) already returned
};

// Replaces invalid UTF-8 in `bytes` by U+FFFD, one per maximal invalid subsequence.
std::string utf8_lossy(const std::string& bytes);

}  // namespace llmcc
