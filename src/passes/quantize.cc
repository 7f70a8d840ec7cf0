#include "passes/passes.h"
#include "quant/model_quantization.h"

namespace llmcc::passes {

void quantize(ir::Module& m) { quantize_module(m); }

}  // namespace llmcc::passes
