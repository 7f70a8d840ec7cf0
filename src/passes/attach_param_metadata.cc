#include "passes/passes.h"

namespace llmcc::passes {

void attach_param_metadata(ir::Module& m) {
  if (!m.attrs.contains("metadata")) return;  // a bare module (llmcc-opt) has nowhere to put it
  Json params = Json::array();
  for (const auto& p : m.params) {
    Json shape = Json::array();
    for (const auto& d : p.type.shape) {
      if (d.is_symbolic())
        shape.push_back(d.symbol);
      else
        shape.push_back(d.value);
    }
    params.push_back({{"name", p.name},
                      {"shape", shape},
                      {"dtype", ir::dtype_mlc_name(p.type.dtype)},
                      {"preprocs", Json::array()},
                      {"pipeline_stages", Json::array({0})}});
  }
  m.attrs["metadata"]["params"] = params;
}

}  // namespace llmcc::passes
