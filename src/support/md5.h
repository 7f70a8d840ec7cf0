// Incremental MD5 (OpenSSL), for the per-shard checksums of tensor-cache.json.
#pragma once

#include <cstddef>
#include <cstdint>
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

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmcc
