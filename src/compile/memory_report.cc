#include "compile/memory_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "ir/type.h"
#include "support/error.h"

namespace llmcc {

namespace {
constexpr double kMB = 1024.0 * 1024.0;
}

MemoryEstimate estimate_memory(const Json& metadata) {
  MemoryEstimate e;
  const Json& config =
      metadata.contains("model_config") ? metadata["model_config"] : Json::object();
  for (const auto& p : metadata.at("params")) {
    double n = 1;
    for (const auto& d : p.at("shape")) {
      if (d.is_number_integer())
        n *= d.get<double>();
      else if (config.contains(d.get<std::string>()))
        n *= config[d.get<std::string>()].get<double>();
      else
        user_error("metadata: param {} has unresolved dimension '{}'", p["name"].dump(), d.dump());
    }
    auto dtype = ir::dtype_from_mlc_name(p.at("dtype").get<std::string>());
    if (!dtype)
      user_error("metadata: param {} has unknown dtype {}", p["name"].dump(), p["dtype"].dump());
    e.params_bytes += n * ir::dtype_bytes(*dtype);
  }
  if (metadata.contains("memory_usage")) {
    const Json& usage = metadata["memory_usage"];
    auto largest = [&](const auto& functions) {
      double bytes = 0;
      for (const char* f : functions)
        if (usage.contains(f)) bytes = std::max(bytes, usage[f].get<double>());
      return bytes;
    };
    const bool encoder = !metadata.contains("kv_cache");
    e.temp_bytes = encoder ? largest(kEncoderFunctions) : largest(kGenerationFunctions);
    e.scoring_temp_bytes = encoder ? 0 : largest(kScoringFunctions);
  }
  e.context_window_size = metadata.value("context_window_size", 0.0);
  if (metadata.contains("kv_cache")) {
    const Json& kv = metadata["kv_cache"];
    std::string q = metadata.value("quantization", "");
    double bytes = q.find("f32") != std::string::npos ? 4 : 2;
    // Sliding layers kept in their own group (local_layers) hold only their window per sequence.
    const double local = kv.contains("local_layers") ? kv["local_layers"].size() : 0;
    const double per_layer =
        kv["head_dim"].get<double>() * kv["num_key_value_heads"].get<double>() * bytes * 2;
    e.kv_bytes_per_token = per_layer * (kv["num_hidden_layers"].get<double>() - local);
    e.kv_window_bytes_per_sequence = per_layer * local * kv.value("local_window", 0.0);
  }
  return e;
}

double interactive_mode_bytes(const MemoryEstimate& e) {
  return e.params_bytes + e.temp_bytes + e.context_window_size * e.kv_bytes_per_token +
         e.kv_window_bytes_per_sequence;
}

std::vector<std::string> memory_report_lines(const Json& metadata) {
  std::vector<std::string> lines;
  if (metadata.contains("memory_usage"))
    for (const auto& [name, bytes] : metadata["memory_usage"].items())
      lines.push_back(
          fmt::format("[Memory usage] Function `{}`: {:.2f} MB", name, bytes.get<double>() / kMB));
  MemoryEstimate e = estimate_memory(metadata);
  double total = e.params_bytes + e.temp_bytes;
  lines.push_back(
      fmt::format("Total memory usage without KV cache: {:.2f} MB (Parameters: {:.2f} MB. "
                  "Temporary buffer: {:.2f} MB)",
                  total / kMB, e.params_bytes / kMB, e.temp_bytes / kMB));
  if (!metadata.contains("kv_cache")) {
    // An encoder: its workspace holds max_batch_size padded sequences of prefill_chunk_size.
    lines.push_back(fmt::format(
        "No KV cache (kv_state_kind none); the temporary buffer covers {} sequences of {} tokens "
        "per call",
        metadata.value("max_batch_size", int64_t{1}), metadata.value("prefill_chunk_size", 0)));
    lines.push_back("To reduce memory usage, tweak `max_batch_size` and `prefill_chunk_size`");
    return lines;
  }
  lines.push_back(fmt::format("KV cache size: {:.2f} MB per token in the context window",
                              e.kv_bytes_per_token / kMB));
  if (e.kv_window_bytes_per_sequence > 0)
    lines.push_back(
        fmt::format("Sliding-window layers' KV cache: {:.2f} MB per sequence (their window only)",
                    e.kv_window_bytes_per_sequence / kMB));
  lines.push_back(fmt::format("Total memory usage with a 4K KV cache: {:.2f} MB",
                              (total + 4096 * e.kv_bytes_per_token) / kMB));
  // What the engine's modes reserve: local and interactive hold one context window of KV in all.
  lines.push_back(fmt::format(
      "Local and interactive modes (generate, chat): {:.2f} MB at most, with the KV cache of one "
      "{}-token context window; server mode: {:.2f} MB plus its KV budget",
      interactive_mode_bytes(e) / kMB, static_cast<int64_t>(e.context_window_size), total / kMB));
  if (e.scoring_temp_bytes > e.temp_bytes)
    lines.push_back(fmt::format(
        "eval_ppl holds a {:.2f} MB temporary buffer instead (batch_verify's logits for a whole "
        "chunk)",
        e.scoring_temp_bytes / kMB));
  lines.push_back(
      "To reduce memory usage, tweak `prefill_chunk_size`, `context_window_size` and "
      "`sliding_window_size`");
  return lines;
}

}  // namespace llmcc
