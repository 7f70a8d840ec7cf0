// MLC's weight layout: params_shard_N.bin files of concatenated raw tensors (at most 32 MiB each;
// a tensor of 16 MiB or more gets a shard of its own) indexed by tensor-cache.json:
//   {"metadata": {"ParamSize", "ParamBytes", "BitsPerParam", ...},
//    "records": [{"dataPath", "format": "raw-shard", "nbytes", "md5sum",
//                 "records": [{"name", "shape", "dtype", "format", "nbytes", "byteOffset"}]}]}
// llmcc writes every tensor with format "raw" (the bytes of its dtype), so q0f32 stays exact; MLC
// stores float32 as "f32-to-bf16", which the reader also accepts.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/json.h"
#include "support/mapped_file.h"
#include "support/md5.h"

namespace llmcc {

inline constexpr size_t kShardCapBytes = 32u << 20;

// Streams tensors into shards in `dir` (which must exist) as they come.
class TensorCacheWriter {
 public:
  explicit TensorCacheWriter(std::filesystem::path dir);
  ~TensorCacheWriter();
  void add(const std::string& name, const std::vector<int64_t>& shape, const std::string& dtype,
           const void* data, size_t nbytes);
  // Writes tensor-cache.json with `extra_metadata` merged into its metadata.
  void finish(const Json& extra_metadata);
  size_t total_bytes() const { return total_bytes_; }
  int64_t total_elements() const { return total_elements_; }

 private:
  void close_shard();
  void open_shard();

  std::filesystem::path dir_;
  std::ofstream shard_;
  std::unique_ptr<Md5> md5_;
  Json shard_records_ = Json::array();
  size_t shard_bytes_ = 0;
  int shard_index_ = -1;
  Json records_ = Json::array();
  size_t total_bytes_ = 0;
  int64_t total_elements_ = 0;
};

struct CachedTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::string format;
  std::string shard;  // file name, for messages
};

// Memory-maps a converted model folder. With verify_md5, every shard's checksum is checked.
// Truncated or corrupt shards are UserErrors naming the file.
class TensorCache {
 public:
  TensorCache(const std::filesystem::path& dir, bool verify_md5);
  const CachedTensor* find(const std::string& name) const;
  // Drops the resident pages of a tensor that will not be read again; a later read faults them in.
  void release(const CachedTensor& t) const;
  const std::map<std::string, CachedTensor>& tensors() const { return tensors_; }
  const Json& metadata() const { return metadata_; }

 private:
  std::vector<std::unique_ptr<MappedFile>> shards_;
  std::map<std::string, CachedTensor> tensors_;
  Json metadata_;
};

}  // namespace llmcc
