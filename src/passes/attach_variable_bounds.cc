#include "passes/passes.h"
#include "support/error.h"

namespace llmcc::passes {

void attach_variable_bounds(ir::Module& m) {
  if (!m.attrs.contains("model_config"))
    internal_error("attach_variable_bounds needs attrs.model_config");
  const Json& c = m.attrs["model_config"];
  auto get = [&](const char* key, int64_t fallback) {
    return c.contains(key) && c[key].is_number_integer() ? c[key].get<int64_t>() : fallback;
  };
  Json bounds = Json::object();
  bounds["seq_len"] = get("prefill_chunk_size", 0);
  bounds["batch_size"] = get("max_batch_size", 1);
  if (c.contains("sliding_window_size")) {
    int64_t window = get("sliding_window_size", -1);
    bounds["rolling_cache_len"] = window;
    bounds["kv_seq_len"] = window + get("prefill_chunk_size", 0);
  } else {
    bounds["total_seq_len"] = get("context_window_size", 0);
  }
  Json kept = Json::object();
  for (auto it = bounds.begin(); it != bounds.end(); ++it)
    if (it.value().get<int64_t>() > 0) kept[it.key()] = it.value();
  for (auto& f : m.functions) {
    f.attrs["tir_var_upper_bound"] = kept;
    f.attrs["tir_non_negative_var"] = Json::array({"vocab_size"});
  }
}

}  // namespace llmcc::passes
