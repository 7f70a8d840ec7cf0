#include "quant/quantization.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "support/error.h"

namespace llmcc {

namespace {

Quantization no_quant(const char* name, const char* dtype) {
  return {name, "no-quant", dtype, dtype, 0, "", false, false, /*implemented=*/true};
}

Quantization group(const char* name, const char* dtype, const char* elem, int g, const char* layout,
                   bool quantize_embedding_and_head = true) {
  return {name,
          "group-quant",
          dtype,
          elem,
          g,
          layout,
          quantize_embedding_and_head,
          quantize_embedding_and_head,
          /*implemented=*/true};
}

std::vector<Quantization> make_registry() {
  return {
      no_quant("q0f16", "float16"),
      no_quant("q0bf16", "bfloat16"),
      no_quant("q0f32", "float32"),
      group("q3f16_0", "float16", "int3", 40, "KN"),
      group("q3f16_1", "float16", "int3", 40, "NK"),
      group("q4f16_0", "float16", "int4", 32, "KN"),
      group("q4f16_1", "float16", "int4", 32, "NK"),
      group("q4bf16_0", "bfloat16", "int4", 32, "KN"),
      group("q4bf16_1", "bfloat16", "int4", 32, "NK"),
      group("q4f32_1", "float32", "int4", 32, "NK"),
      group("q4f16_2", "float16", "int4", 32, "NK", /*quantize_embedding_and_head=*/false),
      // llmcc's own: int8 groups of 32 with an f16 scale (MLC has no int8 weight scheme).
      group("q8f16_1", "float16", "int8", 32, "NK"),
      {"q4f16_autoawq", "awq", "float16", "int4", 128, "KN", false, false, false},
      {"q4f16_ft", "ft-quant", "float16", "int4", 0, "KN", true, true, false},
      {"e5m2_e5m2_f16", "per-tensor-quant", "float16", "float8_e5m2", 0, "NK", false, false, false},
      {"e4m3_e4m3_f16", "per-tensor-quant", "float16", "float8_e4m3fn", 0, "NK", false, false,
       false},
      {"e4m3_e4m3_f16_max_calibrate", "per-tensor-quant", "float16", "float8_e4m3fn", 0, "NK",
       false, false, false},
      {"fp8_e4m3fn_bf16_block_scale", "block-scale-quant", "bfloat16", "float8_e4m3fn", 0, "NK",
       false, false, false},
      {"fp8_e4m3fn_bf16_block_scale_static_activation", "block-scale-quant", "bfloat16",
       "float8_e4m3fn", 0, "NK", false, false, false},
  };
}

std::vector<std::string> names(bool only_implemented) {
  std::vector<std::string> out;
  for (const auto& q : Quantization::all())
    if (!only_implemented || q.implemented) out.push_back(q.name);
  return out;
}

}  // namespace

const std::vector<Quantization>& Quantization::all() {
  static const std::vector<Quantization> registry = make_registry();
  return registry;
}

std::vector<std::string> Quantization::implemented_names() { return names(true); }

const Quantization& Quantization::from_name(const std::string& name) {
  for (const auto& q : all())
    if (q.name == name) return q;
  user_error("unknown quantization '{}'; known schemes: {}", name, fmt::join(names(false), ", "));
}

void Quantization::require_implemented() const {
  if (!implemented)
    throw NotImplementedError(
        fmt::format("quantization '{}' ({}) is not implemented in llmcc yet; implemented: {}", name,
                    kind, fmt::join(implemented_names(), ", ")));
}

}  // namespace llmcc
