// Built-in model configs (MLC's MODEL_PRESETS): compile works with no files at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

std::optional<Json> find_preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace llmcc
