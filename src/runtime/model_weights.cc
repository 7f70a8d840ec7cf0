#include "runtime/model_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "kernels/cpu/int4_tile_layout.h"
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
  apply_layouts(metadata.at("params"), index);
}

void ModelWeights::apply_layouts(const Json& params, const std::string& index) {
  const auto start = std::chrono::steady_clock::now();
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < params.size(); ++i) position[params[i].at("name")] = i;
  struct Job {
    const CachedTensor *w, *s;
    int64_t N, groups, columns;
    uint8_t* out;
    size_t param;
  };
  std::vector<Job> jobs;
  size_t arena_bytes = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Json& p = params[i];
    if (!p.contains("layout")) continue;
    const std::string name = p.at("name"), layout = p.at("layout");
    const int64_t columns = cpu_kernels::int4_tile_columns(layout);
    if (columns == 0)
      user_error(
          "the model library wants tensor '{}' in layout '{}', which this llmcc cannot "
          "produce; rebuild the library with this llmcc",
          name, layout);
    const std::string scale_name = p.value("layout_scale", "");
    auto scale_at = position.find(scale_name);
    const CachedTensor* w = cache_.find(name);
    const CachedTensor* s = scale_at == position.end() ? nullptr : cache_.find(scale_name);
    if (!s || w->dtype != "uint32" || w->shape.size() != 2 || w->shape[1] % 4 != 0 ||
        s->dtype != "float16" || s->shape != std::vector<int64_t>{w->shape[0], w->shape[1] / 4})
      user_error(
          "tensor '{}' in {} cannot take layout '{}' with scales '{}': expected uint32 "
          "[N, 4g] weights and float16 [N, g] scales",
          name, index, layout, scale_name);
    const int64_t N = w->shape[0], groups = w->shape[1] / 4;
    const size_t bytes = static_cast<size_t>(cpu_kernels::int4_tile_bytes(N, groups, columns));
    // An offset into the arena for now (allocated below, once every size is known).
    jobs.push_back({w, s, N, groups, columns, reinterpret_cast<uint8_t*>(arena_bytes), i});
    arena_bytes += (bytes + 63) / 64 * 64;
    repacked_bytes_ += static_cast<int64_t>(bytes);
  }
  if (!jobs.empty()) {
    // One arena, 2 MiB-aligned and marked for huge pages: faulting in 4 KiB pages one by one cost
    // more than the repacking itself. One for all tensors, not one each, so that a small model's
    // hundreds of tensors do not each round up to a 2 MiB page of resident memory.
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t capacity = (arena_bytes + kHuge - 1) / kHuge * kHuge;
    uint8_t* arena = static_cast<uint8_t*>(std::aligned_alloc(kHuge, capacity));
    if (!arena) throw std::bad_alloc();
    ::madvise(arena, capacity, MADV_HUGEPAGE);
    repacked_.emplace_back(arena);
    for (Job& job : jobs) {
      job.out = arena + reinterpret_cast<size_t>(job.out);
      pointers_[job.param] = job.out;
    }
  }
  // Tensors are packed in parallel, largest first so that no thread is left with a big one last.
  std::sort(jobs.begin(), jobs.end(),
            [](const Job& a, const Job& b) { return a.N * a.groups > b.N * b.groups; });
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      const Job& job = jobs[j];
      cpu_kernels::pack_int4_tiles(reinterpret_cast<const uint32_t*>(job.w->data),
                                   reinterpret_cast<const uint16_t*>(job.s->data), job.N,
                                   job.groups, job.columns, job.out);
      // The originals are not read again: the tiles hold the codes and the scales. (Released
      // pages of a read-only file mapping fault back in from the file if anything reads them.)
      cache_.release(*job.w);
      cache_.release(*job.s);
    }
  };
  const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < jobs.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  repack_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace llmcc
