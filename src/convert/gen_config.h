// llmcc gen_config: MLC's mlc-chat-config.json from a Hugging Face model folder, plus the
// tokenizer files copied beside it (reference/mlc-compile.md §10.1).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/model_config_override.h"
#include "support/json.h"

namespace llmcc {

struct GenConfigOptions {
  std::string config;  // HF folder, config.json or preset
  std::string quantization;
  std::string model_type = "auto";
  std::string conv_template;  // empty or "auto": the family's (default_conv_template)
  std::optional<std::string> system_message;  // replaces the template's default
  // Sampling fields (temperature, top_p, top_k, min_p, repetition_penalty, ...) to use where the
  // model's generation_config.json and config.json give none, before MLC's own defaults. A GGUF
  // import sets them: the file carries no generation config.
  Json sampling_defaults = Json::object();
  ModelConfigOverride overrides;  // context_window_size, ..., max_batch_size (default 128)
  std::filesystem::path output;
};

// The conversation template a family's instruct models use (qwen2 -> chatml, mistral ->
// mistral_default, phi3 -> phi-3, ...); UserError where it cannot be told from the type (llama).
std::string default_conv_template(const std::string& model_type);

// Writes OUTPUT/mlc-chat-config.json and copies the tokenizer files; returns the config written.
Json gen_config(const GenConfigOptions& options);

}  // namespace llmcc
