#include "models/qwen3.h"

#include "models/decoder_builder.h"

namespace llmcc {

ir::Module build_qwen3(const LlamaConfig& config, const Quantization& quantization) {
  return build_decoder(config, quantization, {.model_type = "qwen3", .qk_norm = true});
}

}  // namespace llmcc
