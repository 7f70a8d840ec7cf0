// Element conversion between the float formats of checkpoints and model libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace llmcc {

// `src_dtype` is a safetensors name (F32, F16, BF16); `dst_dtype` an MLC name (float32, float16,
// bfloat16). Rounds to nearest even when narrowing. Throws UserError for unsupported pairs.
void convert_elements(const uint8_t* src, const std::string& src_dtype, uint8_t* dst,
                      const std::string& dst_dtype, size_t count);
int mlc_dtype_bytes(const std::string& dtype);  // 0 if unknown

}  // namespace llmcc
