#include "passes/pipeline.h"

#include "passes/passes.h"

namespace llmcc {

PassManager make_pipeline(std::function<void(ir::Module&)> select_kernels) {
  if (!select_kernels) select_kernels = [](ir::Module&) {};
  PassManager pm;
  pm.add_phase({"quantize", {{"quantize", passes::quantize}}});
  pm.add_phase({"annotate",
                {{"attach-variable-bounds", passes::attach_variable_bounds},
                 {"attach-kv-cache-metadata", passes::attach_kv_cache_metadata}}});
  pm.add_phase({"graph",
                {{"fuse-swiglu", passes::fuse_swiglu},
                 {"fuse-residual-add", passes::fuse_residual_add},
                 {"dead-code-elimination", passes::dead_code_elimination}}});
  pm.add_phase({"lower",
                {{"attach-param-metadata", passes::attach_param_metadata},
                 {"select-kernels", select_kernels},
                 {"plan-memory", passes::plan_memory}}});
  return pm;
}

}  // namespace llmcc
