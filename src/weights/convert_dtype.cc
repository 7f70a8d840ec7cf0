#include "weights/convert_dtype.h"

#include <cstring>

#include "kernels/cpu/common.h"
#include "support/error.h"

namespace llmcc {

namespace {

using cpu_kernels::bfloat16;
using cpu_kernels::half;

template <typename S>
float load(const uint8_t* p, size_t i) {
  S v;
  std::memcpy(&v, p + i * sizeof(S), sizeof(S));
  return cpu_kernels::to_float(v);
}

template <typename D>
void store_all(const uint8_t* src, const std::string& src_dtype, uint8_t* dst, size_t n) {
  D* out = reinterpret_cast<D*>(dst);
  if (src_dtype == "F32")
    for (size_t i = 0; i < n; ++i) out[i] = cpu_kernels::from_float<D>(load<float>(src, i));
  else if (src_dtype == "F16")
    for (size_t i = 0; i < n; ++i) out[i] = cpu_kernels::from_float<D>(load<half>(src, i));
  else if (src_dtype == "BF16")
    for (size_t i = 0; i < n; ++i) out[i] = cpu_kernels::from_float<D>(load<bfloat16>(src, i));
  else
    user_error("cannot convert tensors of dtype {}", src_dtype);
}

}  // namespace

int mlc_dtype_bytes(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32" || dtype == "uint32") return 4;
  if (dtype == "float16" || dtype == "bfloat16") return 2;
  return 0;
}

void convert_elements(const uint8_t* src, const std::string& src_dtype, uint8_t* dst,
                      const std::string& dst_dtype, size_t count) {
  if ((src_dtype == "F32" && dst_dtype == "float32") ||
      (src_dtype == "F16" && dst_dtype == "float16") ||
      (src_dtype == "BF16" && dst_dtype == "bfloat16")) {
    std::memcpy(dst, src, count * mlc_dtype_bytes(dst_dtype));
    return;
  }
  if (dst_dtype == "float32")
    store_all<float>(src, src_dtype, dst, count);
  else if (dst_dtype == "float16")
    store_all<half>(src, src_dtype, dst, count);
  else if (dst_dtype == "bfloat16")
    store_all<bfloat16>(src, src_dtype, dst, count);
  else
    user_error("cannot convert weights to dtype {}", dst_dtype);
}

}  // namespace llmcc
