// Reads GGUF files (llama.cpp's format, versions 2 and 3): header, metadata key-values and tensor
// infos, with every size and offset checked before anything is allocated or read.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/json.h"
#include "support/mapped_file.h"

namespace llmcc {

// ggml tensor types llmcc can read.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

struct GgufTensor {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] varies fastest (columns)
  GgmlType type;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  // The shape in row-major (numpy / Hugging Face) order: dims reversed.
  std::vector<int64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
  int64_t elements() const;
};

class GgufFile {
 public:
  // UserError naming the file for a bad magic, an unsupported version, truncation, absurd counts
  // or sizes, offsets out of range, or tensor types llmcc cannot read.
  explicit GgufFile(const std::filesystem::path& path);

  const Json& metadata() const { return metadata_; }  // key -> value (arrays as JSON arrays)
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find(const std::string& name) const;
  uint32_t version() const { return version_; }
  const std::filesystem::path& path() const { return file_->path(); }
  void release(const GgufTensor& t) const { file_->release(t.data, t.nbytes); }

 private:
  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  Json metadata_ = Json::object();
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> by_name_;
};

// Name of a ggml type, for messages ("Q4_1").
const char* ggml_type_name(GgmlType t);
// Elements per block and bytes per block; {0, 0} for types llmcc cannot read.
std::pair<int64_t, int64_t> ggml_block_layout(uint32_t type);
// Dequantizes `t` into `out` (t.elements() floats), following ggml's block formats.
void dequantize_gguf_tensor(const GgufTensor& t, float* out);

}  // namespace llmcc
