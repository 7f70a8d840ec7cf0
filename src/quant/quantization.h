// The quantization registry: every scheme name of MLC's QUANTIZATION table, with its parameters.
// Names llmcc does not implement yet are still recognised, so the error can say what exists.
#pragma once

#include <string>
#include <vector>

namespace llmcc {

struct Quantization {
  std::string name;
  std::string kind;  // MLC's kind: no-quant, group-quant, awq, ft-quant, per-tensor-quant, ...
  std::string model_dtype;           // float32, float16, bfloat16
  std::string weight_dtype;          // element type of the stored weight: float32, int4, int3, ...
  int group_size = 0;                // 0: no groups
  std::string linear_weight_layout;  // "NK", "KN" or "" for no-quant
  bool quantize_embedding = false;
  bool quantize_final_fc = false;
  bool implemented = false;

  // Looks up a name; a UserError lists every known name for an unknown one.
  static const Quantization& from_name(const std::string& name);
  static const std::vector<Quantization>& all();
  static std::vector<std::string> implemented_names();
  // Raises NotImplementedError naming the implemented schemes unless this one is implemented.
  void require_implemented() const;
};

}  // namespace llmcc
