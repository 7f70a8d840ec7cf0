// MLC's compile-time memory estimate (reference/mlc-compile.md §8), from a library's metadata.
#pragma once

#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

// The library functions the runtime calls, and so the workspace it holds (the runtime allocates
// for the functions it calls: runtime/model_runner.cc, runtime/encoder.cc). Generation (chat,
// generate, serve, bench) runs every step through batch_prefill; eval_ppl scores chunks with
// batch_verify; an encoder (no KV cache) runs prefill alone.
inline constexpr const char* kGenerationFunctions[] = {"embed", "batch_prefill"};
inline constexpr const char* kScoringFunctions[] = {"embed", "batch_verify"};
inline constexpr const char* kEncoderFunctions[] = {"prefill"};

struct MemoryEstimate {
  double params_bytes = 0;
  double temp_bytes = 0;  // the largest memory_usage of kGenerationFunctions (an encoder's prefill)
  double scoring_temp_bytes = 0;  // the largest of kScoringFunctions (eval_ppl)
  double context_window_size = 0;
  double kv_bytes_per_token = 0;            // of the layers that keep the whole context
  double kv_window_bytes_per_sequence = 0;  // of the sliding layers kept in their own group
};

MemoryEstimate estimate_memory(const Json& metadata);
// The most the local and interactive modes hold (what `generate`, `chat` and `bench` run in):
// parameters, the temporary buffer and one context window of KV cache.
double interactive_mode_bytes(const MemoryEstimate& e);
// "[Memory usage] Function `f`: x MB" for each function, MLC's four summary lines, then the
// engine modes' totals and eval_ppl's buffer.
std::vector<std::string> memory_report_lines(const Json& metadata);

}  // namespace llmcc
