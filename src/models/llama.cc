// Llama 2, Llama 3/3.1 (rope_scaling "llama3"), TinyLlama and SmolLM: the reference decoder.
#include "models/llama.h"

#include "models/decoder_builder.h"

namespace llmcc {

ir::Module build_llama(const LlamaConfig& config, const Quantization& quantization) {
  return build_decoder(config, quantization, {.model_type = "llama"});
}

}  // namespace llmcc
