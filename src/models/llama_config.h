// LlamaConfig with MLC's fields and __post_init__ derivations (reference/mlc-compile.md §5.1).
// Llama 2, Llama 3/3.1 (rope_scaling "llama3"), TinyLlama and SmolLM all use it.
#pragma once

#include <memory>

#include "config/model_config.h"

namespace llmcc {

class LlamaConfig : public ModelConfig {
 public:
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_hidden_layers = 0;
  double rms_norm_eps = 0;
  int64_t vocab_size = 0;
  bool tie_word_embeddings = false;
  double position_embedding_base = 0;
  Json rope_scaling;  // null, or a resolved scaling object (models/rope_config.h, ir/rope.h)
  // The fraction of head_dim that RoPE rotates (Phi-3.5/4-mini: 0.75).
  double partial_rotary_factor = 1.0;
  // The rotated dims per head, as transformers truncates: int(head_dim * partial_rotary_factor).
  int64_t rotary_dim() const { return static_cast<int64_t>(head_dim * partial_rotary_factor); }
  int64_t context_window_size_ = 0;
  int64_t prefill_chunk_size_ = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t tensor_parallel_shards_ = 1;
  int64_t pipeline_parallel_stages_ = 1;
  int64_t max_batch_size_ = 1;
  bool disaggregation_ = false;
  // MistralConfig's field: attend to the last sliding_window_size positions; -1 (and absent from
  // asdict) for the families without a window.
  int64_t sliding_window_size_ = -1;

  // `context` names the source in errors (a file path or preset).
  static std::unique_ptr<LlamaConfig> from_dict(const Json& dict, const std::string& context);

  Json asdict() const override;
  std::string class_name() const override { return "LlamaConfig"; }
  int64_t context_window_size() const override { return context_window_size_; }
  int64_t prefill_chunk_size() const override { return prefill_chunk_size_; }
  int64_t max_batch_size() const override { return max_batch_size_; }
  int64_t tensor_parallel_shards() const override { return tensor_parallel_shards_; }
  int64_t pipeline_parallel_stages() const override { return pipeline_parallel_stages_; }
  bool disaggregation() const override { return disaggregation_; }
  int64_t sliding_window_size() const override { return sliding_window_size_; }

 protected:
  // Reads Llama's fields of `dict` into `c` (unknown keys go to its kwargs), for the configs that
  // extend LlamaConfig with fields of their own.
  static void read_fields(const Json& dict, const std::string& context, LlamaConfig* c);
};

}  // namespace llmcc
