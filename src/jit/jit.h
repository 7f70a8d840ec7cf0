// Compiling on demand (MLC's JIT, reference/mlc-compile.md §10.3): when a runtime command gets
// no --model-lib, the library for the model folder's mlc-chat-config.json is taken from a cache
// or compiled into it.
//
// Cache: $LLMCC_HOME, else $XDG_CACHE_HOME/llmcc, else ~/.cache/llmcc; entries are
// model_lib/<hash>.so with <hash>.json beside it (what was compiled, and the library's md5). The
// hash covers everything that changes the library: the model config after overrides, the
// quantization, the model type, the target and this CPU's features, the optimization flags,
// llmcc's compiler version and the ABI version.
//
// LLMCC_JIT_POLICY: ON (default: cache, else compile), OFF (refuse; pass --model-lib), REDO
// (always recompile), READONLY (cache only).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

struct JitRequest {
  std::filesystem::path model_dir;
  std::string device = "auto";
  std::string overrides;  // ModelConfigOverride string
  std::string opt = "O2";
};

std::filesystem::path jit_cache_dir();
// The cache key (JSON) and its hash, without compiling anything.
Json jit_key(const JitRequest& request);
std::string jit_hash(const Json& key);
// The library for `request`, from the cache or freshly compiled under a file lock.
std::filesystem::path jit_model_lib(const JitRequest& request);

struct CacheEntry {
  std::string hash;
  std::filesystem::path library;
  uintmax_t bytes = 0;
  Json info;  // the sidecar, or null if missing/unreadable
};
std::vector<CacheEntry> list_cache();
// Removes entries (all when `hash` is empty); returns how many.
int clear_cache(const std::string& hash = "");

}  // namespace llmcc
