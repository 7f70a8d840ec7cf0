// A compiled model library, loaded with dlopen. Refuses libraries built for another ABI.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "llmcc/model_abi.h"
#include "support/json.h"

namespace llmcc {

// A tensor descriptor over caller-owned data, as the library's functions take them.
llmcc_tensor abi_tensor(void* data, int32_t dtype, std::initializer_list<int64_t> shape);

class ModelLibrary {
 public:
  // Throws UserError naming the file when it cannot be loaded or its ABI differs.
  explicit ModelLibrary(const std::filesystem::path& path);
  ~ModelLibrary();
  ModelLibrary(const ModelLibrary&) = delete;
  ModelLibrary& operator=(const ModelLibrary&) = delete;

  const Json& metadata() const { return metadata_; }
  // UserError naming the CPU features the library was compiled for (metadata cpu_features) that
  // this machine lacks. Loading and reading metadata work anywhere; running does not (call()
  // checks too), so a library copied to an older machine fails with a message, not a SIGILL.
  void require_runnable_here() const;
  // metadata() after require_runnable_here(): for a runner, so that the check comes before its
  // weights load.
  const Json& metadata_to_run() const {
    require_runnable_here();
    return metadata_;
  }
  // nullptr when the library lacks the function (MLC tolerates missing optional functions).
  const llmcc_function_info* find(const std::string& name) const;
  const llmcc_function_info& get(const std::string& name) const;  // UserError if missing
  const std::map<std::string, const llmcc_function_info*>& functions() const { return functions_; }

  // Calls a function; a nonzero return becomes a UserError with the library's message.
  void call(const std::string& name, const llmcc_tensor* inputs, int32_t num_inputs,
            llmcc_tensor* outputs, int32_t num_outputs, llmcc_kv_cache* kv,
            const void* const* params, void* workspace) const;

  // False for an encoder (metadata kv_state_kind "none"), which exports no KV cache functions.
  bool has_kv_cache() const;
  llmcc_kv_cache* create_kv_cache(int64_t max_batch_size, int64_t max_total_seq_len,
                                  int64_t prefill_chunk_size, int64_t page_size) const;
  void free_kv_cache(llmcc_kv_cache* kv) const;
  void copy_kv_page(llmcc_kv_cache* kv, int64_t src, int64_t dst) const {
    copy_page_(kv, src, dst);
  }
  std::string last_error() const;

 private:
  void* symbol(const char* name) const;

  std::filesystem::path path_;
  std::vector<std::string> missing_features_;
  void* handle_ = nullptr;
  Json metadata_;
  std::map<std::string, const llmcc_function_info*> functions_;
  const char* (*last_error_)(void) = nullptr;
  llmcc_kv_cache* (*create_kv_)(int64_t, int64_t, int64_t, int64_t, int64_t) = nullptr;
  void (*free_kv_)(llmcc_kv_cache*) = nullptr;
  void (*copy_page_)(llmcc_kv_cache*, int64_t, int64_t) = nullptr;
};

}  // namespace llmcc
