#include "models/model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/llama.h"
#include "models/llama_config.h"
#include "models/mistral.h"
#include "models/phi3.h"
#include "models/qwen2.h"
#include "models/qwen3.h"
#include "support/error.h"

namespace llmcc {

namespace {

std::vector<Model> make_registry() {
  std::vector<Model> models;
  Model llama;
  llama.name = "llama";
  llama.config_from_dict = [](const Json& d,
                              const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    return LlamaConfig::from_dict(d, ctx);
  };
  llama.build = [](const ModelConfig& c, const Quantization& q) {
    return build_llama(dynamic_cast<const LlamaConfig&>(c), q);
  };
  llama.hf_sources = llama_hf_sources;
  llama.hf_ignored = [](const std::string& name, const ModelConfig& c) {
    return llama_hf_ignored(name, dynamic_cast<const LlamaConfig&>(c));
  };
  models.push_back(llama);
  Model qwen2 = llama;  // Llama's config fields and loader, with q/k/v biases
  qwen2.name = "qwen2";
  qwen2.config_from_dict = [](const Json& d,
                              const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    check_qwen2_config(d, ctx);
    return LlamaConfig::from_dict(d, ctx);
  };
  qwen2.build = [](const ModelConfig& c, const Quantization& q) {
    return build_qwen2(dynamic_cast<const LlamaConfig&>(c), q);
  };
  qwen2.hf_sources = qwen2_hf_sources;
  models.push_back(qwen2);
  Model qwen3 = qwen2;  // the same config checks (sliding window), Llama's weight names
  qwen3.name = "qwen3";
  qwen3.build = [](const ModelConfig& c, const Quantization& q) {
    return build_qwen3(dynamic_cast<const LlamaConfig&>(c), q);
  };
  qwen3.hf_sources = llama_hf_sources;
  models.push_back(std::move(qwen3));
  Model mistral = llama;  // Llama's weight names, with a sliding window
  mistral.name = "mistral";
  mistral.config_from_dict = [](const Json& d,
                                const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    return mistral_config_from_dict(d, ctx);
  };
  mistral.build = [](const ModelConfig& c, const Quantization& q) {
    return build_mistral(dynamic_cast<const LlamaConfig&>(c), q);
  };
  models.push_back(mistral);
  Model phi3 = mistral;  // a sliding window too, and the checkpoint's own fused tensors
  phi3.name = "phi3";
  phi3.config_from_dict = [](const Json& d,
                             const std::string& ctx) -> std::unique_ptr<ModelConfig> {
    return phi3_config_from_dict(d, ctx);
  };
  phi3.build = [](const ModelConfig& c, const Quantization& q) {
    return build_phi3(dynamic_cast<const LlamaConfig&>(c), q);
  };
  phi3.hf_sources = phi3_hf_sources;
  models.push_back(std::move(phi3));
  // Recognised, not yet implemented (MLC's MODELS keys).
  for (const char* name :
       {"llama4",      "ministral3",  "gemma",     "gemma2",      "gemma3",   "gemma3_text",
        "gpt2",        "mixtral",     "gpt_neox",  "gpt_bigcode", "phi-msft", "phi",
        "phi3_v",      "qwen",        "qwen2_moe", "qwen3_moe",   "qwen3_5",  "qwen3_5_text",
        "deepseek_v2", "deepseek_v3", "stablelm",  "baichuan",    "internlm", "internlm2",
        "starcoder2",  "cohere",      "minicpm",   "deepseek",    "gptj",     "rwkv5",
        "rwkv6",       "orion",       "chatglm",   "llava",       "eagle",    "medusa",
        "olmo",        "olmo2",       "nemotron"}) {
    Model m;
    m.name = name;
    models.push_back(std::move(m));
  }
  for (const char* name : {"qwen3-embedding", "bert", "bert-bge"}) {
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
  if (name.find("qwen3_5") != std::string::npos) return "hybrid";
  return "kv_cache";
}

}  // namespace llmcc
