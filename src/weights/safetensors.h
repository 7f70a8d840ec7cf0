// Reads Hugging Face safetensors checkpoints: one file, or shards listed by
// model.safetensors.index.json. Files are memory-mapped; nothing is copied until asked.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/mapped_file.h"

namespace llmcc {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;  // safetensors' name: F32, F16, BF16, ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::filesystem::path file;
};

class SafetensorsCheckpoint {
 public:
  // `path`: a .safetensors file, an index .json, or a folder holding model.safetensors or
  // model.safetensors.index.json. Validates every header (offsets inside the file, sizes matching
  // shapes); a malformed file is a UserError naming it.
  static SafetensorsCheckpoint open(const std::filesystem::path& path);

  const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  // Drops the tensor's pages from memory once it has been read (see MappedFile::release).
  void release(const SafetensorsTensor& t) const;

 private:
  void add_file(const std::filesystem::path& file);

  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, SafetensorsTensor> tensors_;
};

// Bytes per element of a safetensors dtype name, or 0 for one llmcc cannot read.
int safetensors_dtype_bytes(const std::string& dtype);

}  // namespace llmcc
