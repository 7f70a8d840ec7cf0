#include "chat/embedder.h"

#include <algorithm>

#include "support/error.h"

namespace llmcc {

namespace fs = std::filesystem;

Embedder::Embedder(const fs::path& model_dir, const fs::path& model_lib, bool verify_md5)
    : encoder_(model_dir, model_lib, verify_md5), model_dir_(model_dir) {
  // Token ids need no tokenizer; text does (tokenize()).
  if (fs::exists(model_dir / "tokenizer.json") || fs::exists(model_dir / "tokenizer.model"))
    tokenizer_ = Tokenizer::from_dir(model_dir);
  const fs::path config = model_dir / "mlc-chat-config.json";
  if (fs::exists(config))
    settings_ = EmbeddingSettings::from_json(read_json_file(config), config.string());
  const int64_t limit = encoder_.max_sequence_length();
  if (settings_.max_seq_length <= 0 || settings_.max_seq_length > limit)
    settings_.max_seq_length = limit;
}

const Tokenizer& Embedder::tokenizer() const {
  if (!tokenizer_)
    user_error("'{}' holds neither tokenizer.json nor tokenizer.model; give token ids instead",
               model_dir_.string());
  return *tokenizer_;
}

std::vector<int32_t> Embedder::tokenize(const std::string& text) const {
  tokenizer();
  std::vector<int32_t> ids = tokenizer_->encode(text, /*add_special_tokens=*/true);
  const size_t limit = static_cast<size_t>(settings_.max_seq_length);
  if (ids.size() > limit) {
    const int32_t last = ids.back();
    ids.resize(limit);
    if (tokenizer_->is_special(last)) ids.back() = last;
  }
  return ids;
}

std::vector<Embedding> Embedder::embed(const std::vector<std::vector<int32_t>>& sequences,
                                       Pooling pooling, bool normalize) {
  const int64_t H = encoder_.hidden_size();
  std::vector<std::vector<float>> hidden = encoder_.encode(sequences);
  std::vector<Embedding> out(sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) {
    out[i].tokens = static_cast<int64_t>(sequences[i].size());
    out[i].values = pool(hidden[i], H, pooling);
    if (normalize) l2_normalize_rows(out[i].values, H);
  }
  return out;
}

}  // namespace llmcc
