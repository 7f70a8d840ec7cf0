// BERT, the encoder of sentence embedders such as all-MiniLM-L6-v2 (reference/architectures.md):
// word + token type + absolute position embeddings and a LayerNorm, then post-LN layers of
// bidirectional attention over a padding mask and a GELU MLP, every linear and norm with a bias.
// No KV cache (kv_state_kind "none"): the library exports one `prefill` over a padded batch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "ir/module.h"
#include "quant/quantization.h"

namespace llmcc {

// MLC's BertConfig fields, plus type_vocab_size and max_position_embeddings (the table sizes).
class BertConfig : public ModelConfig {
 public:
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-12;
  int64_t context_window_size_ = 0;
  int64_t prefill_chunk_size_ = 0;
  int64_t head_dim = 0;
  int64_t tensor_parallel_shards_ = 1;
  // Sequences in one call of the encoder; the workspace is sized for this many of
  // prefill_chunk_size tokens.
  int64_t max_batch_size_ = 8;
  int64_t type_vocab_size = 2;
  int64_t max_position_embeddings = 0;

  static std::unique_ptr<BertConfig> from_dict(const Json& dict, const std::string& context);
  Json asdict() const override;
  std::string class_name() const override { return "BertConfig"; }
  int64_t context_window_size() const override { return context_window_size_; }
  int64_t prefill_chunk_size() const override { return prefill_chunk_size_; }
  int64_t max_batch_size() const override { return max_batch_size_; }
  int64_t tensor_parallel_shards() const override { return tensor_parallel_shards_; }
  int64_t pipeline_parallel_stages() const override { return 1; }
  bool disaggregation() const override { return false; }
};

ir::Module build_bert(const BertConfig& config, const Quantization& quantization);
// MLC's bert params from a Hugging Face BertModel checkpoint (the fused q|k|v).
std::vector<std::string> bert_hf_sources(const std::string& mlc_param);
bool bert_hf_ignored(const std::string& hf_name);

}  // namespace llmcc
