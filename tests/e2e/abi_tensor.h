// A caller-owned llmcc_tensor over `data`, for tests that call library functions directly.
#pragma once

#include <vector>

#include "llmcc/model_abi.h"

namespace llmcc::testing {

inline llmcc_tensor abi_tensor(void* data, llmcc_dtype dtype, const std::vector<int64_t>& shape) {
  llmcc_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t.shape[i] = shape[i];
  return t;
}

}  // namespace llmcc::testing
