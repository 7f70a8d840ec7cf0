// Text to sentence embeddings: the tokenizer, an encoder library (runtime/encoder.h) and the
// pooling that the model's sentence-transformers config asks for, which gen_config records in
// mlc-chat-config.json's "embedding" object. `llmcc embed` and serve's /v1/embeddings run this.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chat/embedding_settings.h"
#include "runtime/encoder.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

struct Embedding {
  std::vector<float> values;  // [H], or [tokens, H] without pooling
  int64_t tokens = 0;         // the tokens it was computed from
};

class Embedder {
 public:
  // `model_dir` holds the converted weights, tokenizer and mlc-chat-config.json.
  Embedder(const std::filesystem::path& model_dir, const std::filesystem::path& model_lib,
           bool verify_md5);

  const EmbeddingSettings& settings() const { return settings_; }
  int64_t hidden_size() const { return encoder_.hidden_size(); }
  int64_t max_batch_size() const { return encoder_.max_batch_size(); }
  int64_t vocab_size() const { return encoder_.vocab_size(); }
  // A folder may hold no tokenizer: then only token ids can be embedded.
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  // UserError when the folder has no tokenizer.
  const Tokenizer& tokenizer() const;

  // The ids of `text` with the tokenizer's special tokens, cut to the settings' length (keeping
  // the final [SEP], as transformers' truncation does).
  std::vector<int32_t> tokenize(const std::string& text) const;
  // One embedding per sequence, in order, computed in batches.
  std::vector<Embedding> embed(const std::vector<std::vector<int32_t>>& sequences, Pooling pooling,
                               bool normalize);

 private:
  Encoder encoder_;
  std::filesystem::path model_dir_;
  std::unique_ptr<Tokenizer> tokenizer_;  // null when the folder has none
  EmbeddingSettings settings_;
};

}  // namespace llmcc
