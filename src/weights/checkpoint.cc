#include "weights/checkpoint.h"

#include <fmt/format.h>

#include "support/error.h"
#include "weights/gguf_import.h"
#include "weights/safetensors.h"

namespace llmcc {

namespace {

class SafetensorsSource : public Checkpoint {
 public:
  explicit SafetensorsSource(const std::filesystem::path& path)
      : ckpt_(SafetensorsCheckpoint::open(path)) {}
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, _] : ckpt_.tensors()) out.push_back(name);
    return out;
  }
  bool contains(const std::string& name) const override { return ckpt_.find(name) != nullptr; }
  TensorView load(const std::string& name) const override {
    const SafetensorsTensor& t = *ckpt_.find(name);
    TensorView v;
    v.name = name;
    v.dtype = t.dtype;
    v.shape = t.shape;
    v.data = t.data;
    v.nbytes = t.nbytes;
    v.file = t.file.string();
    return v;
  }
  void release(const TensorView& v) const override { ckpt_.release(*ckpt_.find(v.name)); }

 private:
  SafetensorsCheckpoint ckpt_;
};

}  // namespace

bool is_gguf_path(const std::filesystem::path& path) {
  return std::filesystem::is_regular_file(path) && path.extension() == ".gguf";
}

std::unique_ptr<Checkpoint> open_checkpoint(const std::filesystem::path& path,
                                            const std::string& format) {
  if (format == "gguf" || (format == "auto" && is_gguf_path(path)))
    return open_gguf_checkpoint(path);
  if (format == "auto" || format == "huggingface-safetensor")
    return std::make_unique<SafetensorsSource>(path);
  throw NotImplementedError(fmt::format(
      "--source-format {} is not implemented; implemented: auto, huggingface-safetensor, gguf",
      format));
}

}  // namespace llmcc
