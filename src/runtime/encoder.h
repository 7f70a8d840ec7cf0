// An encoder library (metadata kv_state_kind "none": BERT) on its weights: token sequences to
// their last hidden states. Sequences are grouped into calls of at most max_batch_size, by
// length, so that each call pads little.
#pragma once

#include <filesystem>
#include <vector>

#include "runtime/model_library.h"
#include "runtime/model_weights.h"

namespace llmcc {

class Encoder {
 public:
  // UserError for a library with a KV cache (a decoder: use generate, chat or serve).
  Encoder(const std::filesystem::path& model_dir, const std::filesystem::path& model_lib,
          bool verify_md5);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  const Json& metadata() const { return library_.metadata(); }
  int64_t hidden_size() const { return hidden_size_; }
  // The longest sequence one call takes (the compiled prefill_chunk_size).
  int64_t max_sequence_length() const { return max_seq_; }
  int64_t max_batch_size() const { return max_batch_; }
  int64_t vocab_size() const { return vocab_size_; }

  // The last hidden states of each sequence, [length, hidden] in f32, in the order given. An empty
  // or too long sequence, or an id outside the vocabulary, is a UserError.
  std::vector<std::vector<float>> encode(const std::vector<std::vector<int32_t>>& sequences);

 private:
  // One call over sequences [first, last) of `order`, padded to the longest.
  void encode_batch(const std::vector<std::vector<int32_t>>& sequences,
                    const std::vector<size_t>& order, size_t first, size_t last,
                    std::vector<std::vector<float>>& out);

  ModelLibrary library_;
  ModelWeights weights_;
  int64_t hidden_size_ = 0, max_seq_ = 0, max_batch_ = 1, vocab_size_ = 0;
  int32_t model_dtype_ = LLMCC_FLOAT32;
  std::string model_dtype_name_;
  void* workspace_ = nullptr;
};

}  // namespace llmcc
