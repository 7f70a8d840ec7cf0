// MLC's compile-time memory estimate (reference/mlc-compile.md §8), from a library's metadata.
#pragma once

#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

// The library functions the runtime calls, and so the workspace it holds (the runtime allocates
// for the functions it calls: runtime/model_runner.cc). Generation (chat, generate, serve, bench)
// runs every step through batch_prefill; eval_ppl scores chunks with batch_verify; an encoder
// runs prefill.
inline constexpr const char* kGenerationFunctions[] = {"embed", "batch_prefill", "prefill"};
inline constexpr const char* kScoringFunctions[] = {"embed", "batch_verify"};

struct MemoryEstimate {
  double params_bytes = 0;
  double temp_bytes = 0;          // the largest workspace of kGenerationFunctions
  double scoring_temp_bytes = 0;  // the largest of kScoringFunctions (eval_ppl)
  double context_window_size = 0;
  double kv_bytes_per_token = 0;            // of the layers that keep the whole context
  double kv_window_bytes_per_sequence = 0;  // of the sliding layers kept in their own group
};

MemoryEstimate estimate_memory(const Json& metadata);
// "[Memory usage] Function `f`: x MB" for each function, MLC's four summary lines, then the
// total of the engine's modes: what `generate` and `chat` hold at most.
double interactive_mode_bytes(const MemoryEstimate& e);
std::vector<std::string> memory_report_lines(const Json& metadata);

}  // namespace llmcc
