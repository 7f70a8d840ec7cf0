// How Hugging Face Llama checkpoints map onto llmcc's (MLC's) Llama params.
#include "models/llama.h"
#include "support/strings.h"

namespace llmcc {

namespace {

std::string strip(const std::string& s, const std::string& suffix) {
  return s.substr(0, s.size() - suffix.size());
}

}  // namespace

std::vector<std::string> llama_hf_sources(const std::string& mlc_param) {
  if (ends_with(mlc_param, "self_attn.qkv_proj.weight")) {
    std::string p = strip(mlc_param, "qkv_proj.weight");
    return {p + "q_proj.weight", p + "k_proj.weight", p + "v_proj.weight"};
  }
  if (ends_with(mlc_param, "mlp.gate_up_proj.weight")) {
    std::string p = strip(mlc_param, "gate_up_proj.weight");
    return {p + "gate_proj.weight", p + "up_proj.weight"};
  }
  return {mlc_param};
}

bool llama_hf_ignored(const std::string& hf_name, const LlamaConfig& config) {
  if (ends_with(hf_name, "rotary_emb.inv_freq")) return true;
  // Tied checkpoints sometimes still carry a copy of the embedding as lm_head.
  return config.tie_word_embeddings && hf_name == "lm_head.weight";
}

}  // namespace llmcc
