// MLC's ModelConfigOverride: "context_window_size=4096;tensor_parallel_shards=2" applied on top of
// a model config, after which the config's derived values are recomputed.
#pragma once

#include <optional>
#include <string>

#include "support/json.h"

namespace llmcc {

struct ModelConfigOverride {
  std::optional<int64_t> context_window_size;
  std::optional<int64_t> sliding_window_size;
  std::optional<int64_t> prefill_chunk_size;
  std::optional<int64_t> attention_sink_size;
  std::optional<int64_t> max_batch_size;
  std::optional<int64_t> tensor_parallel_shards;
  std::optional<int64_t> pipeline_parallel_stages;
  std::optional<bool> disaggregation;

  static ModelConfigOverride from_str(const std::string& text);
  // All eight fields "k=v;..." with None for unset ones, as MLC prints it.
  std::string repr() const;
  // Returns `config_dict` (a config's asdict()) with the set fields replaced. A field the config
  // lacks gets MLC's warning naming `config_class`. The caller re-creates the config from the
  // result so that derived values are recomputed.
  Json apply(const Json& config_dict, const std::string& config_class) const;
};

}  // namespace llmcc
