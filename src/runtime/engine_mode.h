// MLC's engine modes and the sizes they give: how many sequences run at once, how many tokens
// the KV cache holds in all, and the token budget of one step.
//   local:       up to 4 sequences, the KV cache of one full context window (a user's machine);
//   interactive: one sequence (a chat in a terminal);
//   server:      as many sequences as the library was compiled for, and a KV cache as large as
//                the memory budget allows, up to a full window for each of them.
#pragma once

#include <cstdint>
#include <string>

namespace llmcc {

enum class EngineMode { kLocal, kInteractive, kServer };

// UserError naming the value and the choices.
EngineMode engine_mode_from_name(const std::string& name);
const char* engine_mode_name(EngineMode mode);

struct EngineSizing {
  int64_t max_num_sequence = 1;
  int64_t max_total_sequence_length = 0;
  int64_t prefill_chunk_size = 0;
};

struct EngineLimits {
  int64_t library_max_batch_size = 1;  // compiled bound on sequences per batched call
  int64_t context_window_size = 0;
  int64_t library_prefill_chunk_size = 0;
  int64_t kv_bytes_per_token = 0;
  double kv_budget_bytes = 0;  // server mode
};

// The mode's sizes, with any nonzero request overriding it; UserError when one is outside what
// the library allows (more sequences than its max_batch_size, a chunk over its own).
EngineSizing size_engine(EngineMode mode, const EngineLimits& limits, int64_t max_num_sequence,
                         int64_t max_total_sequence_length, int64_t prefill_chunk_size);

// A quarter of the machine's physical memory, server mode's default KV budget.
double default_kv_budget_bytes();

}  // namespace llmcc
