#include "models/model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/bert.h"
#include "models/gemma.h"
#include "models/gemma_config.h"
#include "models/gpt2.h"
#include "models/gpt_neox.h"
#include "models/llama.h"
#include "models/llama_config.h"
#include "models/mistral.h"
#include "models/phi3.h"
#include "models/qwen2.h"
#include "models/qwen3.h"
#include "support/error.h"

namespace llmcc {

namespace {

// A family that reads a LlamaConfig (possibly its own way) and builds through the shared decoder.
template <std::unique_ptr<LlamaConfig> (*Read)(const Json&, const std::string&),
          ir::Module (*Build)(const LlamaConfig&, const Quantization&)>
Model llama_shaped(const char* name,
                   std::vector<std::string> (*hf_sources)(const std::string& mlc_param)) {
  Model m;
  m.name = name;
  m.config_from_dict = [](const Json& d, const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    return Read(d, ctx);
  };
  m.build = [](const ModelConfig& c, const Quantization& q) {
    return Build(dynamic_cast<const LlamaConfig&>(c), q);
  };
  m.hf_sources = hf_sources;
  m.hf_ignored = [](const std::string& hf_name, const ModelConfig& c) {
    return llama_hf_ignored(hf_name, dynamic_cast<const LlamaConfig&>(c));
  };
  return m;
}

std::vector<Model> make_registry() {
  std::vector<Model> models = {
      llama_shaped<LlamaConfig::from_dict, build_llama>("llama", llama_hf_sources),
      // q/k/v biases
      llama_shaped<qwen2_config_from_dict, build_qwen2>("qwen2", qwen2_hf_sources),
      // per-head q/k norms
      llama_shaped<qwen2_config_from_dict, build_qwen3>("qwen3", llama_hf_sources),
      // a sliding window
      llama_shaped<mistral_config_from_dict, build_mistral>("mistral", llama_hf_sources),
      // a sliding window, and the checkpoint's own fused tensors
      llama_shaped<phi3_config_from_dict, build_phi3>("phi3", phi3_hf_sources),
      // (1 + w) norms, GeGLU, a scaled embedding; then sandwich norms, softcaps, sliding layers
      llama_shaped<gemma_config_from_dict, build_gemma>("gemma", llama_hf_sources),
      llama_shaped<gemma2_config_from_dict, build_gemma>("gemma2", llama_hf_sources),
      llama_shaped<gemma3_config_from_dict, build_gemma>("gemma3", llama_hf_sources),
      llama_shaped<gemma3_config_from_dict, build_gemma>("gemma3_text", llama_hf_sources),
  };
  for (auto& m : models)
    if (m.name.rfind("gemma", 0) == 0) m.hf_offset = gemma_hf_offset;
  // LayerNorm decoders: learned positions and Conv1D weights; parallel residual, partial rotary.
  Model gpt2 = llama_shaped<gpt2_config_from_dict, build_gpt2>("gpt2", gpt2_hf_sources);
  gpt2.hf_transposed = gpt2_hf_transposed;
  gpt2.hf_prefix_aliases = {{"transformer.", ""}};
  gpt2.hf_ignored = [](const std::string& hf_name, const ModelConfig& c) {
    return gpt2_hf_ignored(hf_name, dynamic_cast<const LlamaConfig&>(c));
  };
  models.push_back(std::move(gpt2));
  Model neox = llama_shaped<gpt_neox_config_from_dict, build_gpt_neox>(
      "gpt_neox", [](const std::string& p) { return std::vector<std::string>{p}; });
  neox.hf_prefix_aliases = {{"gpt_neox.", ""}};
  neox.hf_ignored = [](const std::string& hf_name, const ModelConfig& c) {
    return gpt_neox_hf_ignored(hf_name, dynamic_cast<const LlamaConfig&>(c));
  };
  models.push_back(std::move(neox));
  // The encoder: no KV cache, one prefill over a padded batch.
  Model bert;
  bert.name = "bert";
  bert.model_task = "embedding";
  bert.config_from_dict = [](const Json& d,
                             const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    return BertConfig::from_dict(d, ctx);
  };
  bert.build = [](const ModelConfig& c, const Quantization& q) {
    return build_bert(dynamic_cast<const BertConfig&>(c), q);
  };
  bert.hf_sources = bert_hf_sources;
  bert.hf_prefix_aliases = {{"", "bert."}};
  bert.hf_ignored = [](const std::string& hf_name, const ModelConfig&) {
    return bert_hf_ignored(hf_name);
  };
  models.push_back(std::move(bert));
  // Recognised, not yet implemented (MLC's MODELS keys).
  for (const char* name :
       {"llama4",      "ministral3",  "mixtral",   "gpt_bigcode", "phi-msft", "phi",
        "phi3_v",      "qwen",        "qwen2_moe", "qwen3_moe",   "qwen3_5",  "qwen3_5_text",
        "deepseek_v2", "deepseek_v3", "stablelm",  "baichuan",    "internlm", "internlm2",
        "starcoder2",  "cohere",      "minicpm",   "deepseek",    "gptj",     "rwkv5",
        "rwkv6",       "orion",       "chatglm",   "llava",       "eagle",    "medusa",
        "olmo",        "olmo2",       "nemotron"}) {
    Model m;
    m.name = name;
    models.push_back(std::move(m));
  }
  for (const char* name : {"qwen3-embedding", "bert-bge"}) {
    Model m;
    m.name = name;
    m.model_task = "embedding";
    models.push_back(std::move(m));
  }
  return models;
}

std::vector<std::string> names(bool only_implemented) {
  std::vector<std::string> out;
  for (const auto& m : Model::all())
    if (!only_implemented || m.implemented()) out.push_back(m.name);
  return out;
}

}  // namespace

ir::DType model_dtype(const Quantization& q) {
  auto d = ir::dtype_from_mlc_name(q.model_dtype);
  if (!d) internal_error("quantization {} has unknown model dtype {}", q.name, q.model_dtype);
  return *d;
}

const std::vector<Model>& Model::all() {
  static const std::vector<Model> registry = make_registry();
  return registry;
}

std::vector<std::string> Model::implemented_names() { return names(true); }

const Model& Model::from_name(const std::string& raw) {
  std::string name = raw == "mixformer-sequential" ? "phi-msft" : raw;
  for (const auto& m : all())
    if (m.name == name) return m;
  user_error("unknown model type '{}'; known model types: {}", raw, fmt::join(names(false), ", "));
}

void Model::require_implemented() const {
  if (!implemented())
    throw NotImplementedError(
        fmt::format("model type '{}' is not implemented in llmcc yet; implemented: {}", name,
                    fmt::join(implemented_names(), ", ")));
}

std::string Model::kv_state_kind() const {
  if (name.find("rwkv") != std::string::npos) return "rnn_state";
  if (name.find("medusa") != std::string::npos) return "none";
  if (name == "bert") return "none";  // an encoder: no KV cache (MLC writes kv_cache here)
  if (name.find("qwen3_5") != std::string::npos) return "hybrid";
  return "kv_cache";
}

}  // namespace llmcc
