#include "config/config_source.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/presets.h"
#include "support/error.h"
#include "support/logging.h"

namespace llmcc {

namespace fs = std::filesystem;

ConfigSource load_config_source(const std::string& spec) {
  fs::path path(spec);
  if (!fs::exists(path)) {
    if (auto preset = find_preset(spec)) {
      log_info("Using built-in preset '{}'", spec);
      return {*preset, "preset '" + spec + "'", std::nullopt};
    }
    user_error("'{}' is neither a config file, a folder holding one, nor a preset; presets: {}",
               spec, fmt::join(preset_names(), ", "));
  }
  if (fs::is_directory(path)) {
    fs::path chat = path / "mlc-chat-config.json", hf = path / "config.json";
    if (fs::exists(chat))
      path = chat;
    else if (fs::exists(hf))
      path = hf;
    else
      user_error("folder '{}' holds neither mlc-chat-config.json nor config.json", spec);
  }
  Json dict = read_json_file(path);
  if (!dict.is_object()) user_error("'{}' must hold a JSON object", path.string());
  return {dict, path.string(), path};
}

Json flatten_model_config(Json dict, std::optional<int64_t>* active_vocab_size) {
  if (dict.contains("active_vocab_size")) {
    const Json& v = dict["active_vocab_size"];
    if (v.is_number_integer() && v.get<int64_t>() > 0) {
      *active_vocab_size = v.get<int64_t>();
      log_info("Active vocab size from input config: {}", **active_vocab_size);
    }
    dict.erase("active_vocab_size");
  }
  if (!dict.contains("model_config")) return dict;
  Json model_config = dict["model_config"];
  if (!model_config.is_object()) user_error("'model_config' must be a JSON object");
  dict.erase("model_config");
  for (auto it = dict.begin(); it != dict.end(); ++it) model_config[it.key()] = it.value();
  return model_config;
}

std::string detect_model_type(const std::string& requested, const ConfigSource& source) {
  if (!requested.empty() && requested != "auto") return requested;
  const Json& d = source.dict;
  if (d.contains("model_type") && d["model_type"].is_string()) return d["model_type"];
  if (d.contains("model_config") && d["model_config"].contains("model_type"))
    return d["model_config"]["model_type"];
  // Older or hand-written configs may name only the HF class.
  static const std::pair<const char*, const char*> kArchitectures[] = {
      {"LlamaForCausalLM", "llama"},     {"Qwen2ForCausalLM", "qwen2"},
      {"Qwen3ForCausalLM", "qwen3"},     {"MistralForCausalLM", "mistral"},
      {"Phi3ForCausalLM", "phi3"},       {"GemmaForCausalLM", "gemma"},
      {"Gemma2ForCausalLM", "gemma2"},   {"GPT2LMHeadModel", "gpt2"},
      {"GPTNeoXForCausalLM", "gpt_neox"}};
  if (d.contains("architectures") && d["architectures"].is_array())
    for (const Json& a : d["architectures"])
      for (const auto& [cls, type] : kArchitectures)
        if (a == cls) return type;
  user_error(
      "{}: cannot detect the model type: no 'model_type' field and no known 'architectures'; "
      "pass --model-type",
      source.context);
}

std::string detect_quantization(const std::string& requested, const ConfigSource& source) {
  if (!requested.empty()) return requested;
  if (source.dict.contains("quantization") && source.dict["quantization"].is_string())
    return source.dict["quantization"];
  user_error("{}: no quantization given: pass --quantization (e.g. q0f16)", source.context);
}

}  // namespace llmcc
