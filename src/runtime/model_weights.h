// Binds a converted weight folder to a model library: one pointer per metadata param, in order,
// after checking every param's name, dtype and shape.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
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
  // Seconds spent at load repacking weights into the layouts the library's kernels chose.
  double repack_seconds() const { return repack_seconds_; }
  int64_t repacked_bytes() const { return repacked_bytes_; }

 private:
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  // Repacks the params whose metadata names a layout (see kernels/cpu/int4_tile_layout.h).
  void apply_layouts(const Json& params, const std::string& index);

  TensorCache cache_;
  std::vector<const void*> pointers_;
  std::vector<std::vector<float>> widened_;  // f32 params MLC stored as bf16
  std::vector<std::unique_ptr<uint8_t, FreeDeleter>> repacked_;
  double repack_seconds_ = 0;
  int64_t repacked_bytes_ = 0;
};

}  // namespace llmcc
