// MLC's compile-time memory estimate (reference/mlc-compile.md §8), from a library's metadata.
#pragma once

#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

struct MemoryEstimate {
  double params_bytes = 0;
  double temp_bytes = 0;                    // the largest function's memory_usage
  double kv_bytes_per_token = 0;            // of the layers that keep the whole context
  double kv_window_bytes_per_sequence = 0;  // of the sliding layers kept in their own group
};

MemoryEstimate estimate_memory(const Json& metadata);
// "[Memory usage] Function `f`: x MB" for each function, then MLC's four summary lines.
std::vector<std::string> memory_report_lines(const Json& metadata);

}  // namespace llmcc
