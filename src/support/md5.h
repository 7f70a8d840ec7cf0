// Incremental MD5 (OpenSSL), for the per-shard checksums of tensor-cache.json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace llmcc {

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void update(const void* data, size_t size);
  std::string hex_digest();  // finishes the hash

  static std::string of(const void* data, size_t size);
  // The file's digest, read through a small buffer: hashing a mapping instead would leave every
  // page of it resident in this process. UserError when it cannot be read.
  static std::string of_file(const std::filesystem::path& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmcc
