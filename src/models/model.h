// The model registry: every model-type name of MLC's MODELS table. Each implemented entry knows
// how to parse its config and build its graph IR.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model_config.h"
#include "ir/module.h"
#include "quant/quantization.h"

namespace llmcc {

// The dtype of a model's embeddings and hidden states under `q` (q.model_dtype), for the builders.
ir::DType model_dtype(const Quantization& q);

struct Model {
  std::string name;
  std::string model_task = "chat";  // "chat" or "embedding"
  std::function<std::unique_ptr<ModelConfig>(const Json& dict, const std::string& context)>
      config_from_dict;  // empty when not implemented
  std::function<ir::Module(const ModelConfig&, const Quantization&)> build;
  // Where an MLC param comes from in a Hugging Face checkpoint: the tensors concatenated along
  // axis 0 (e.g. qkv_proj <- q_proj, k_proj, v_proj).
  std::function<std::vector<std::string>(const std::string& mlc_param)> hf_sources;
  // A constant the converter adds to the values of an MLC param read from HF (Gemma's norms:
  // HF stores w of (1 + w), llmcc stores 1 + w, as MLC and llama.cpp do). Empty: none.
  std::function<double(const std::string& mlc_param)> hf_offset;
  // Whether the HF tensors of an MLC param are stored transposed, [in, out] (GPT-2's Conv1D).
  // Empty: none are.
  std::function<bool(const std::string& mlc_param)> hf_transposed;
  // Other prefixes a checkpoint of this family may use for its tensor names (GPT2Model's bare
  // "h.0...", BertForMaskedLM's "bert.embeddings..."): {prefix in the MLC names, prefix stored}.
  std::vector<std::pair<std::string, std::string>> hf_prefix_aliases;
  // HF tensors that have no MLC param and are skipped (e.g. rotary_emb.inv_freq).
  std::function<bool(const std::string& hf_name, const ModelConfig&)> hf_ignored;

  bool implemented() const { return static_cast<bool>(build); }
  // MLC's _infer_kv_state_kind: rnn_state, none, hybrid or kv_cache, from the name.
  std::string kv_state_kind() const;

  // Looks up a name (MLC's alias mixformer-sequential -> phi-msft applies); a UserError lists
  // every known name for an unknown one.
  static const Model& from_name(const std::string& name);
  static const std::vector<Model>& all();
  static std::vector<std::string> implemented_names();
  // Raises NotImplementedError naming the implemented model types unless this one is.
  void require_implemented() const;
};

}  // namespace llmcc
