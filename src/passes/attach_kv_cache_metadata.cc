#include "passes/passes.h"

namespace llmcc::passes {

void attach_kv_cache_metadata(ir::Module& m) {
  if (!m.attrs.contains("kv_cache") || !m.attrs.contains("metadata")) return;
  const Json& kv = m.attrs["kv_cache"];
  m.attrs["metadata"]["kv_cache"] = {{"num_hidden_layers", kv["num_hidden_layers"]},
                                     {"num_attention_heads", kv["num_attention_heads"]},
                                     {"num_key_value_heads", kv["num_key_value_heads"]},
                                     {"head_dim", kv["head_dim"]}};
  for (const char* key : {"local_layers", "local_window"})
    if (kv.contains(key)) m.attrs["metadata"]["kv_cache"][key] = kv[key];
}

}  // namespace llmcc::passes
