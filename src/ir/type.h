// Types of the graph IR: tensors with constant or symbolic dimensions, and the KV-cache object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmcc::ir {

enum class DType { kF32, kF16, kBF16, kI32, kU32 };

// "f32", "f16", ... as printed in the IR.
const char* dtype_short_name(DType d);
// "float32", "float16", ... as written in MLC metadata.
const char* dtype_mlc_name(DType d);
int dtype_bytes(DType d);
std::optional<DType> dtype_from_short_name(const std::string& s);
std::optional<DType> dtype_from_mlc_name(const std::string& s);

// A dimension: a constant, or a symbol such as seq_len whose upper bound the function declares.
struct Dim {
  int64_t value = 0;
  std::string symbol;  // empty: constant

  static Dim constant(int64_t v) { return Dim{v, ""}; }
  static Dim sym(std::string s) { return Dim{0, std::move(s)}; }
  bool is_symbolic() const { return !symbol.empty(); }
  bool operator==(const Dim&) const = default;
  std::string str() const;
};

struct Type {
  enum class Kind { kTensor, kKVCache };
  Kind kind = Kind::kTensor;
  DType dtype = DType::kF32;
  std::vector<Dim> shape;

  static Type tensor(DType dtype, std::vector<Dim> shape) {
    return Type{Kind::kTensor, dtype, std::move(shape)};
  }
  static Type kv_cache() { return Type{Kind::kKVCache, DType::kF32, {}}; }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool operator==(const Type&) const = default;
  // "f32[seq_len, 64]" or "kv_cache".
  std::string str() const;
};

}  // namespace llmcc::ir
