// MLC's Model.quantize: builds a model and swaps its weights for their quantized form.
#pragma once

#include "ir/module.h"
#include "models/model.h"
#include "quant/quantization.h"

namespace llmcc {

// For group quantization, every param used as a linear weight (and, when the scheme says so, the
// embedding and lm_head) becomes X.q_weight (uint32) and X.q_scale (model dtype) in its place,
// and the ops that read it become linear_q / take_q, which dequantize on the fly. The module's
// attrs.quantized_layout maps each quantized stem (X) to "NK" or "KN".
ir::Module build_quantized_model(const Model& model, const ModelConfig& config,
                                 const Quantization& quantization);

// The same rewrite on a built module, for the scheme its attrs.quantization names (the compiler's
// "quantize" pass). Marks the module attrs.quantized, and does nothing to one already marked or
// one that names no scheme.
void quantize_module(ir::Module& m);

// The element bits of a group scheme (4, 3 or 8).
int group_quant_bits(const Quantization& q);

}  // namespace llmcc
