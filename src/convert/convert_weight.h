// llmcc convert_weight: a Hugging Face checkpoint becomes MLC's tensor-cache layout for one
// quantization, checked param by param against what the compiled model will expect.
#pragma once

#include <filesystem>
#include <string>

#include "config/config_source.h"
#include "models/model.h"
#include "quant/quantization.h"

namespace llmcc {

struct ConvertWeightOptions {
  std::filesystem::path source;        // empty: the config's folder
  std::string source_format = "auto";  // auto | huggingface-safetensor
  std::filesystem::path output;
};

struct ConvertWeightStats {
  int64_t num_params = 0;  // tensors written
  int64_t num_elements = 0;
  double bytes = 0;
};

// Streams tensor by tensor: memory use stays near the largest (fused) tensor. A new output folder
// appears complete or not at all; into an existing one (beside mlc-chat-config.json, as MLC lays
// out a model) the shards are written first and tensor-cache.json last.
ConvertWeightStats convert_weight(const ConfigSource& config, const Quantization& quantization,
                                  const Model& model, const ConvertWeightOptions& options);

}  // namespace llmcc
