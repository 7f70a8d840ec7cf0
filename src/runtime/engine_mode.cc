#include "runtime/engine_mode.h"

#include <unistd.h>

#include <algorithm>

#include "support/error.h"

namespace llmcc {

EngineMode engine_mode_from_name(const std::string& name) {
  if (name == "local") return EngineMode::kLocal;
  if (name == "interactive") return EngineMode::kInteractive;
  if (name == "server") return EngineMode::kServer;
  user_error("unknown engine mode '{}': choose local, interactive or server", name);
}

const char* engine_mode_name(EngineMode mode) {
  switch (mode) {
    case EngineMode::kLocal:
      return "local";
    case EngineMode::kInteractive:
      return "interactive";
    case EngineMode::kServer:
      return "server";
  }
  return "?";
}

double default_kv_budget_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || size <= 0) return 4.0 * (1 << 30);
  return 0.25 * static_cast<double>(pages) * static_cast<double>(size);
}

EngineSizing size_engine(EngineMode mode, const EngineLimits& limits, int64_t max_num_sequence,
                         int64_t max_total_sequence_length, int64_t prefill_chunk_size) {
  const int64_t window = limits.context_window_size;
  EngineSizing s;
  switch (mode) {
    case EngineMode::kInteractive:
      s.max_num_sequence = 1;
      s.max_total_sequence_length = window;
      break;
    case EngineMode::kLocal:
      s.max_num_sequence = std::min<int64_t>(4, limits.library_max_batch_size);
      s.max_total_sequence_length = window;
      break;
    case EngineMode::kServer: {
      s.max_num_sequence = limits.library_max_batch_size;
      const double fit = limits.kv_bytes_per_token > 0
                             ? limits.kv_budget_bytes / limits.kv_bytes_per_token
                             : static_cast<double>(window);
      s.max_total_sequence_length =
          std::clamp<int64_t>(static_cast<int64_t>(fit), window, window * s.max_num_sequence);
      break;
    }
  }
  s.prefill_chunk_size = limits.library_prefill_chunk_size;
  if (max_num_sequence < 0 || max_total_sequence_length < 0 || prefill_chunk_size < 0)
    user_error("engine sizes must be positive (0 picks the mode's)");
  if (max_num_sequence > 0) {
    if (max_num_sequence > limits.library_max_batch_size)
      user_error(
          "max_num_sequence {} is more than the library's max_batch_size {}: compile with "
          "--overrides max_batch_size={}",
          max_num_sequence, limits.library_max_batch_size, max_num_sequence);
    s.max_num_sequence = max_num_sequence;
  }
  if (max_total_sequence_length > 0) s.max_total_sequence_length = max_total_sequence_length;
  if (prefill_chunk_size > 0) {
    if (prefill_chunk_size > limits.library_prefill_chunk_size)
      user_error("prefill_chunk_size {} is more than the library's {}", prefill_chunk_size,
                 limits.library_prefill_chunk_size);
    s.prefill_chunk_size = prefill_chunk_size;
  }
  if (s.prefill_chunk_size < s.max_num_sequence)
    user_error("prefill_chunk_size {} cannot hold a decode row for each of {} sequences",
               s.prefill_chunk_size, s.max_num_sequence);
  return s;
}

}  // namespace llmcc
