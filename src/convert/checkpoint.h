// A source of Hugging Face-named weight tensors for convert_weight: safetensors files, or a GGUF
// file whose tensors are renamed and dequantized on the way out.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace llmcc {

struct TensorView {
  std::string name;
  std::string dtype;  // safetensors' names: F32, F16, BF16
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::string file;          // where it came from, for messages
  std::vector<float> owned;  // storage when the tensor had to be decoded
};

class Checkpoint {
 public:
  virtual ~Checkpoint() = default;
  virtual std::vector<std::string> names() const = 0;
  virtual bool contains(const std::string& name) const = 0;
  // The tensor, decoded if need be. UserError naming the file when it cannot be read.
  virtual TensorView load(const std::string& name) const = 0;
  // Lets go of a loaded tensor's source pages (streaming through large files).
  virtual void release(const TensorView&) const {}
};

// Safetensors (a file, an index, or a folder) or GGUF (a .gguf file), by `format`
// ("auto", "huggingface-safetensor" or "gguf").
std::unique_ptr<Checkpoint> open_checkpoint(const std::filesystem::path& path,
                                            const std::string& format);

bool is_gguf_path(const std::filesystem::path& path);

}  // namespace llmcc
