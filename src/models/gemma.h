// Gemma, Gemma 2 and Gemma 3 (text): Llama's decoder with (1 + w) norms rounded last, a scaled
// embedding, GeGLU, and tied embeddings; Gemma 2 adds sandwich norms, softcapped attention and
// logits, and alternating sliding layers; Gemma 3 adds q/k norms and a RoPE per layer type.
#pragma once

#include <string>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

// `config` is a GemmaConfig (models/gemma_config.h).
ir::Module build_gemma(const LlamaConfig& config, const Quantization& quantization);

// What the converter adds to an HF tensor: Gemma stores w of its (1 + w) norms, llmcc (as MLC)
// stores 1 + w.
double gemma_hf_offset(const std::string& mlc_param);

}  // namespace llmcc
