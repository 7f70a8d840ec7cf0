// Binds a converted weight folder to a model library: one pointer per metadata param, in order,
// after checking every param's name, dtype and shape.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "support/json.h"
#include "weights/tensor_cache.h"

namespace llmcc {

class ModelWeights {
 public:
  // `metadata` is the library's. A missing param or a dtype/shape mismatch (weights converted for
  // another model or quantization) is a UserError naming the param and both sides.
  ModelWeights(const std::filesystem::path& dir, const Json& metadata, bool verify_md5);
  const void* const* pointers() const { return pointers_.data(); }
  size_t size() const { return pointers_.size(); }

 private:
  TensorCache cache_;
  std::vector<const void*> pointers_;
  std::vector<std::vector<float>> widened_;  // f32 params MLC stored as bf16
};

}  // namespace llmcc
