#include "config/model_config_override.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "config/key_value_list.h"
#include "support/error.h"
#include "support/logging.h"

namespace llmcc {

namespace {

const std::vector<std::string>& field_names() {
  static const std::vector<std::string> names = {
      "context_window_size",      "sliding_window_size", "prefill_chunk_size",
      "attention_sink_size",      "max_batch_size",      "tensor_parallel_shards",
      "pipeline_parallel_stages", "disaggregation"};
  return names;
}

int64_t parse_int(const std::string& key, const std::string& value) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size())
    user_error("--overrides: '{}' must be an integer, got '{}'", key, value);
  return v;
}

// Visits every field as (name, optional<Json>) so repr and apply share one list.
template <typename F>
void for_each_field(const ModelConfigOverride& o, F&& f) {
  auto as_json = [](const auto& opt) -> std::optional<Json> {
    if (!opt) return std::nullopt;
    return Json(*opt);
  };
  f("context_window_size", as_json(o.context_window_size));
  f("sliding_window_size", as_json(o.sliding_window_size));
  f("prefill_chunk_size", as_json(o.prefill_chunk_size));
  f("attention_sink_size", as_json(o.attention_sink_size));
  f("max_batch_size", as_json(o.max_batch_size));
  f("tensor_parallel_shards", as_json(o.tensor_parallel_shards));
  f("pipeline_parallel_stages", as_json(o.pipeline_parallel_stages));
  f("disaggregation", as_json(o.disaggregation));
}

}  // namespace

ModelConfigOverride ModelConfigOverride::from_str(const std::string& text) {
  ModelConfigOverride o;
  for (const auto& [key, value] : parse_key_value_list(text, field_names(), "--overrides")) {
    if (key == "disaggregation") {
      std::string lower = value;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      o.disaggregation = lower == "true" || lower == "1" || lower == "yes";
      continue;
    }
    int64_t v = parse_int(key, value);
    if (key == "context_window_size")
      o.context_window_size = v;
    else if (key == "sliding_window_size")
      o.sliding_window_size = v;
    else if (key == "prefill_chunk_size")
      o.prefill_chunk_size = v;
    else if (key == "attention_sink_size")
      o.attention_sink_size = v;
    else if (key == "max_batch_size")
      o.max_batch_size = v;
    else if (key == "tensor_parallel_shards")
      o.tensor_parallel_shards = v;
    else if (key == "pipeline_parallel_stages")
      o.pipeline_parallel_stages = v;
  }
  return o;
}

std::string ModelConfigOverride::repr() const {
  std::string out;
  for_each_field(*this, [&](const char* name, const std::optional<Json>& v) {
    if (!out.empty()) out += ";";
    std::string text = !v                ? "None"
                       : v->is_boolean() ? (v->get<bool>() ? "True" : "False")
                                         : v->dump();
    out += fmt::format("{}={}", name, text);
  });
  return out;
}

Json ModelConfigOverride::apply(const Json& config_dict, const std::string& config_class) const {
  Json d = config_dict;
  for_each_field(*this, [&](const char* name, const std::optional<Json>& v) {
    if (!v) return;
    if (!d.contains(name)) {
      log_warning("Cannot override {}, because {} does not have this field", name, config_class);
      return;
    }
    log_info("Overriding {} from {} to {}", name, d[name].dump(), v->dump());
    d[name] = *v;
  });
  return d;
}

}  // namespace llmcc
