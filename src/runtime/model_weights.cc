#include "runtime/model_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "support/error.h"

namespace llmcc {

namespace fs = std::filesystem;

ModelWeights::ModelWeights(const fs::path& dir, const Json& metadata, bool verify_md5)
    : cache_(dir, verify_md5) {
  const Json& config = metadata.value("model_config", Json::object());
  const std::string lib_quant = metadata.value("quantization", "?");
  const std::string weight_quant = cache_.metadata().value("quantization", "");
  const std::string index = (dir / "tensor-cache.json").string();
  auto hint = [&]() -> std::string {
    if (!weight_quant.empty() && weight_quant != lib_quant)
      return fmt::format(": the weights were converted for {} but the library is {}", weight_quant,
                         lib_quant);
    return ": were the weights converted for this model and quantization?";
  };
  for (const auto& p : metadata.at("params")) {
    const std::string name = p.at("name");
    const CachedTensor* t = cache_.find(name);
    if (!t)
      user_error("{} has no tensor '{}', which the model library needs{}", index, name, hint());
    std::vector<int64_t> shape;
    for (const auto& d : p.at("shape"))
      shape.push_back(d.is_string() ? config.at(d.get<std::string>()).get<int64_t>()
                                    : d.get<int64_t>());
    const std::string dtype = p.at("dtype");
    if (t->dtype != dtype || t->shape != shape)
      user_error("tensor '{}' in {} is {} [{}] but the model library expects {} [{}]{}", name,
                 index, t->dtype, fmt::join(t->shape, ", "), dtype, fmt::join(shape, ", "), hint());
    if (t->format == "f32-to-bf16" && dtype == "float32") {
      // MLC's encoding: float32 stored as bfloat16, widened on load.
      size_t n = t->nbytes / 2;
      std::vector<float> wide(n);
      for (size_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(t->data)[i]) << 16;
        std::memcpy(&wide[i], &bits, 4);
      }
      widened_.push_back(std::move(wide));
      pointers_.push_back(widened_.back().data());
      continue;
    }
    if (t->format != "raw" && t->format != "f32-to-bf16")
      user_error("tensor '{}' in {} has unknown format '{}'", name, index, t->format);
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    size_t elem = dtype == "float32" || dtype == "uint32" || dtype == "int32" ? 4 : 2;
    if (t->nbytes != static_cast<size_t>(count) * elem)
      user_error("tensor '{}' in {} has {} bytes, expected {}", name, index, t->nbytes,
                 count * elem);
    pointers_.push_back(t->data);
  }
}

}  // namespace llmcc
