#include "models/model_quantization.h"
#include "passes/passes.h"

namespace llmcc::passes {

void quantize(ir::Module& m) { quantize_module(m); }

}  // namespace llmcc::passes
