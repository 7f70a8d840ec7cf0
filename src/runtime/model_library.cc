#include "runtime/model_library.h"

#include <dlfcn.h>

#include "runtime/cpu_features.h"
#include "runtime/elf_file.h"
#include "support/error.h"
#include "support/host_arch.h"

namespace llmcc {

namespace fs = std::filesystem;

ModelLibrary::ModelLibrary(const fs::path& path) : path_(path) {
  if (!fs::exists(path)) user_error("model library '{}' does not exist", path.string());
  if (path.extension() == ".tar")
    user_error("'{}' is a static library (.tar) for linking into an application; load a .so",
               path.string());
  const std::string machine = elf_machine(path), host = host_arch();
  if (!machine.empty() && machine != host)
    user_error(
        "model library '{}' is built for {}, but this machine is {}; compile it for this machine "
        "(--device llvm), or run it on {} hardware",
        path.string(), machine, host, machine);
  // NODELETE: the library pulls in the OpenMP runtime, whose parked worker threads would crash if
  // its code were unmapped by dlclose.
  handle_ = ::dlopen(fs::absolute(path).c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle_) user_error("cannot load model library '{}': {}", path.string(), ::dlerror());
  auto version = reinterpret_cast<uint32_t (*)(void)>(symbol("llmcc_abi_version"));
  if (!version)
    user_error("'{}' is not an llmcc model library (no llmcc_abi_version symbol)", path.string());
  if (version() != LLMCC_ABI_VERSION)
    user_error(
        "model library '{}' was built for ABI version {}, but this runtime speaks version "
        "{}; recompile it with this llmcc",
        path.string(), version(), LLMCC_ABI_VERSION);
  auto metadata = reinterpret_cast<const char* (*)(void)>(symbol("llmcc_metadata"));
  auto functions =
      reinterpret_cast<const llmcc_function_info* (*)(int32_t*)>(symbol("llmcc_functions"));
  last_error_ = reinterpret_cast<const char* (*)(void)>(symbol("llmcc_last_error"));
  create_kv_ = reinterpret_cast<decltype(create_kv_)>(symbol("llmcc_create_tir_paged_kv_cache"));
  free_kv_ = reinterpret_cast<decltype(free_kv_)>(symbol("llmcc_free_kv_cache"));
  copy_page_ = reinterpret_cast<decltype(copy_page_)>(symbol("llmcc_kv_cache_copy_page"));
  if (!metadata || !functions || !last_error_)
    user_error("model library '{}' lacks required llmcc symbols", path.string());
  try {
    metadata_ = Json::parse(metadata());
  } catch (const std::exception& e) {
    user_error("model library '{}' has malformed metadata: {}", path.string(), e.what());
  }
  if (metadata_.contains("cpu_features")) {
    const Json& features = metadata_["cpu_features"];
    bool strings = features.is_array();
    for (const Json& f : features) strings = strings && f.is_string();
    if (!strings)
      user_error("model library '{}': metadata cpu_features must be a list of strings, got {}",
                 path.string(), features.dump());
    missing_features_ = missing_cpu_features(features.get<std::vector<std::string>>());
  }
  // An encoder (kv_state_kind "none") has no KV cache to create.
  if (has_kv_cache() && (!create_kv_ || !free_kv_ || !copy_page_))
    user_error("model library '{}' lacks its KV cache functions", path.string());
  int32_t count = 0;
  const llmcc_function_info* table = functions(&count);
  for (int32_t i = 0; i < count; ++i) functions_[table[i].name] = &table[i];
}

llmcc_tensor abi_tensor(void* data, int32_t dtype, std::initializer_list<int64_t> shape) {
  if (shape.size() > LLMCC_MAX_NDIM) internal_error("a tensor of rank {}", shape.size());
  llmcc_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  int i = 0;
  for (int64_t d : shape) t.shape[i++] = d;
  return t;
}

ModelLibrary::~ModelLibrary() {
  if (handle_) ::dlclose(handle_);
}

void* ModelLibrary::symbol(const char* name) const { return ::dlsym(handle_, name); }

const llmcc_function_info* ModelLibrary::find(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second;
}

const llmcc_function_info& ModelLibrary::get(const std::string& name) const {
  const llmcc_function_info* f = find(name);
  if (!f) user_error("model library '{}' has no function '{}'", path_.string(), name);
  return *f;
}

std::string ModelLibrary::last_error() const { return last_error_(); }

void ModelLibrary::require_runnable_here() const {
  if (missing_features_.empty()) return;
  std::string missing;
  for (const auto& f : missing_features_) missing += (missing.empty() ? "" : ", ") + f;
  user_error(
      "model library '{}' was compiled for CPU features this machine lacks: {} (its target: {}). "
      "Recompile it here (without --model-lib the library is compiled for this machine), or for "
      "a baseline every machine of the fleet has, e.g. --device \"llvm -mcpu=x86-64-v3\"",
      path_.string(), missing, metadata_.value("target", Json()).dump());
}

void ModelLibrary::call(const std::string& name, const llmcc_tensor* inputs, int32_t num_inputs,
                        llmcc_tensor* outputs, int32_t num_outputs, llmcc_kv_cache* kv,
                        const void* const* params, void* workspace) const {
  require_runnable_here();
  const llmcc_function_info& f = get(name);
  if (f.fn(inputs, num_inputs, outputs, num_outputs, kv, params, workspace) != 0)
    user_error("{}", last_error());
}

bool ModelLibrary::has_kv_cache() const {
  return metadata_.value("kv_state_kind", "kv_cache") != "none";
}

llmcc_kv_cache* ModelLibrary::create_kv_cache(int64_t max_batch_size, int64_t max_total_seq_len,
                                              int64_t prefill_chunk_size, int64_t page_size) const {
  if (!create_kv_)
    user_error("model library '{}' has no KV cache (kv_state_kind \"none\"): {} is an encoder",
               path_.string(), metadata_.value("model_type", "the model"));
  llmcc_kv_cache* kv =
      create_kv_(max_batch_size, max_total_seq_len, prefill_chunk_size, page_size, 0);
  if (!kv) user_error("cannot create the KV cache: {}", last_error());
  return kv;
}

void ModelLibrary::free_kv_cache(llmcc_kv_cache* kv) const {
  if (free_kv_) free_kv_(kv);
}

}  // namespace llmcc
