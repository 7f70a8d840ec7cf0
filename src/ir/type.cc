#include "ir/type.h"

#include <fmt/format.h>

namespace llmcc::ir {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* short_name;
  const char* mlc_name;
  int bytes;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kF32, "f32", "float32", 4},    {DType::kF16, "f16", "float16", 2},
    {DType::kBF16, "bf16", "bfloat16", 2}, {DType::kI32, "i32", "int32", 4},
    {DType::kU32, "u32", "uint32", 4},
};
const DTypeInfo& info(DType d) { return kDTypes[static_cast<int>(d)]; }
}  // namespace

const char* dtype_short_name(DType d) { return info(d).short_name; }
const char* dtype_mlc_name(DType d) { return info(d).mlc_name; }
int dtype_bytes(DType d) { return info(d).bytes; }

std::optional<DType> dtype_from_short_name(const std::string& s) {
  for (const auto& i : kDTypes)
    if (s == i.short_name) return i.dtype;
  return std::nullopt;
}

std::optional<DType> dtype_from_mlc_name(const std::string& s) {
  for (const auto& i : kDTypes)
    if (s == i.mlc_name) return i.dtype;
  return std::nullopt;
}

std::string Dim::str() const { return is_symbolic() ? symbol : std::to_string(value); }

std::string Type::str() const {
  if (kind == Kind::kKVCache) return "kv_cache";
  std::string out = std::string(dtype_short_name(dtype)) + "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + shape[i].str();
  return out + "]";
}

}  // namespace llmcc::ir
