// Finds the config a command was pointed at: a config.json or mlc-chat-config.json file, a
// folder holding one, or a preset name.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "support/json.h"

namespace llmcc {

struct ConfigSource {
  Json dict;            // the JSON as read
  std::string context;  // what to call it in messages: the file path or "preset 'x'"
  std::optional<std::filesystem::path> file;
};

ConfigSource load_config_source(const std::string& spec);

// MLC's compile step 1: pops top-level active_vocab_size into `active_vocab_size`, and if a
// nested "model_config" exists, returns it updated with the top-level keys (which win).
Json flatten_model_config(Json dict, std::optional<int64_t>* active_vocab_size);

// MLC's detect_model_type / detect_quantization: the explicit value, else the config's.
std::string detect_model_type(const std::string& requested, const ConfigSource& source);
std::string detect_quantization(const std::string& requested, const ConfigSource& source);

}  // namespace llmcc
