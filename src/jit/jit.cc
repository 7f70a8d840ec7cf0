#include "jit/jit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "config/config_source.h"
#include "llmcc/compile.h"
#include "llmcc/model_abi.h"
#include "support/embedded_sources.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "support/md5.h"
#include "support/version.h"
#include "targets/backend.h"

namespace llmcc {

namespace fs = std::filesystem;

namespace {

std::string policy() {
  const char* p = std::getenv("LLMCC_JIT_POLICY");
  std::string v = p && *p ? p : "ON";
  if (v != "ON" && v != "OFF" && v != "REDO" && v != "READONLY")
    user_error("LLMCC_JIT_POLICY must be ON, OFF, REDO or READONLY; got '{}'", v);
  return v;
}

// A fingerprint of this CPU's model and features: "native" libraries differ between machines.
std::string cpu_fingerprint() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model, flags;
  while (std::getline(in, line)) {
    if (model.empty() && line.rfind("model name", 0) == 0) model = line;
    if (flags.empty() && line.rfind("flags", 0) == 0) flags = line;
  }
  return Md5::of((model + flags).data(), model.size() + flags.size());
}

// Holds an exclusive flock for the lifetime of the object.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) user_error("cannot create lock file '{}'", path.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      log_info("JIT: another process is compiling this model library; waiting for it");
      ::flock(fd_, LOCK_EX);
    }
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_ = -1;
};

// Why an entry cannot be used, or "" when it is sound.
std::string entry_problem(const fs::path& lib, const fs::path& sidecar) {
  if (!fs::exists(lib)) return "missing";
  if (!fs::exists(sidecar)) return "its record is missing";
  Json info;
  try {
    info = Json::parse(read_file(sidecar));
  } catch (const std::exception&) {
    return "its record is unreadable";
  }
  if (info.value("abi_version", 0u) != LLMCC_ABI_VERSION)
    return "it was built for ABI version " + info.value("abi_version", Json()).dump();
  if (info.value("compiler_version", "") != kCompilerVersion)
    return "it was built by llmcc " + info.value("compiler_version", "?");
  std::string data = read_file(lib);
  if (data.size() != info.value("bytes", uintmax_t{0}) ||
      Md5::of(data.data(), data.size()) != info.value("md5", ""))
    return "the library file is truncated or corrupt";
  return "";
}

}  // namespace

fs::path jit_cache_dir() {
  if (const char* home = std::getenv("LLMCC_HOME"); home && *home) return fs::path(home);
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "llmcc";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "llmcc";
  user_error("cannot find a cache folder: set LLMCC_HOME");
}

Json jit_key(const JitRequest& r) {
  const fs::path config_path = r.model_dir / "mlc-chat-config.json";
  if (!fs::exists(config_path))
    user_error("'{}' has no mlc-chat-config.json to compile from; run `llmcc gen_config`",
               r.model_dir.string());
  ConfigSource source = load_config_source(config_path.string());
  const Model& model = Model::from_name(detect_model_type("auto", source));
  model.require_implemented();
  const Quantization& q = Quantization::from_name(detect_quantization("", source));
  Target target = Target::from_device(r.device);
  OptimizationFlags opt = OptimizationFlags::from_str(r.opt);
  opt.update(target, q);
  ModelConfigOverride overrides = ModelConfigOverride::from_str(r.overrides);
  std::optional<int64_t> active_vocab_size;
  auto config =
      model.config_from_dict(flatten_model_config(source.dict, &active_vocab_size), source.context);
  Json model_config = overrides.apply(config->asdict(), config->class_name());
  model_config = model.config_from_dict(model_config, source.context)->asdict();
  Json device = target.to_json();
  device["cpu"] = cpu_fingerprint();
  return {{"model_config", model_config},
          {"overrides", overrides.repr()},
          {"opt", opt.repr()},
          {"device", device},
          {"model_type", model.name},
          {"quantization", q.name},
          {"compiler_version", kCompilerVersion},
          {"abi_version", LLMCC_ABI_VERSION},
          // What the version number does not pin: the kernels compiled into the library, the
          // codegen that wrote its source, and the compiler that built it.
          {"kernels", kernel_sources_hash()},
          {"codegen", codegen_hash()},
          {"host_compiler", make_backend(target)->toolchain_identity()}};
}

std::string jit_hash(const Json& key) {
  // Sorted keys, as MLC hashes json.dumps(key, sort_keys=True).
  std::string text = nlohmann::json::parse(key.dump()).dump(2);
  return Md5::of(text.data(), text.size());
}

namespace {

// A READONLY machine may have no compiler (a deployment image) or another one: it compiles
// nothing, so a library built from the same inputs by any compiler serves. The newest usable
// entry whose key differs from `key` only in host_compiler, if any.
std::optional<fs::path> entry_from_any_compiler(const fs::path& dir, Json key) {
  key.erase("host_compiler");
  std::optional<fs::path> best;
  fs::file_time_type best_time{};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json") continue;
    Json info;
    try {
      info = Json::parse(read_file(e.path()));
    } catch (const std::exception&) {
      continue;
    }
    if (!info.is_object() || !info.contains("key") || !info["key"].is_object()) continue;
    Json theirs = info["key"];
    theirs.erase("host_compiler");
    if (theirs != key) continue;
    fs::path lib = fs::path(e.path()).replace_extension(".so");
    if (!entry_problem(lib, e.path()).empty()) continue;
    auto time = fs::last_write_time(lib, ec);
    if (!best || time > best_time) best = lib, best_time = time;
  }
  return best;
}

}  // namespace

fs::path jit_model_lib(const JitRequest& r) {
  const std::string mode = policy();
  if (mode == "OFF")
    user_error(
        "no --model-lib given and LLMCC_JIT_POLICY=OFF forbids compiling one; pass --model-lib");
  Json key = jit_key(r);
  const std::string hash = jit_hash(key);
  const fs::path dir = jit_cache_dir() / "model_lib";
  const fs::path lib = dir / (hash + ".so"), sidecar = dir / (hash + ".json");
  if (mode == "READONLY") {
    std::string problem = entry_problem(lib, sidecar);
    if (!problem.empty()) {
      if (auto other = entry_from_any_compiler(dir, key)) {
        log_info("JIT: cache hit {} (built by another host compiler)", other->string());
        return *other;
      }
      user_error(
          "LLMCC_JIT_POLICY=READONLY and the cached model library {} cannot be used ({}); "
          "pass --model-lib or allow compiling",
          lib.string(), problem);
    }
    log_info("JIT: cache hit {}", lib.string());
    return lib;
  }
  fs::create_directories(dir);
  FileLock lock(dir / (hash + ".lock"));
  std::string problem = entry_problem(lib, sidecar);
  if (problem.empty() && mode == "ON") {
    log_info("JIT: cache hit {}", lib.string());
    return lib;
  }
  if (mode == "REDO")
    log_info("JIT: LLMCC_JIT_POLICY=REDO, recompiling {}", lib.string());
  else if (problem != "missing")
    log_warning("JIT: cached model library {} is unusable ({}); rebuilding", lib.string(), problem);
  else
    log_info("JIT: cache miss, compiling the model library for {}", r.model_dir.string());

  std::error_code ec;
  fs::remove(sidecar, ec);
  auto start = std::chrono::steady_clock::now();
  ConfigSource source = load_config_source((r.model_dir / "mlc-chat-config.json").string());
  const LogLevel before = log_threshold();
  set_log_threshold(LogLevel::kWarning);  // compile's own report would drown the chat
  try {
    compile(source.dict, Quantization::from_name(key["quantization"]),
            Model::from_name(key["model_type"]), Target::from_device(r.device),
            OptimizationFlags::from_str(r.opt), nullptr, "auto", lib,
            ModelConfigOverride::from_str(r.overrides));
  } catch (...) {
    set_log_threshold(before);
    throw;
  }
  set_log_threshold(before);
  std::string data = read_file(lib);
  Json info = {{"abi_version", LLMCC_ABI_VERSION},
               {"compiler_version", kCompilerVersion},
               {"bytes", data.size()},
               {"md5", Md5::of(data.data(), data.size())},
               {"model_dir", fs::absolute(r.model_dir).string()},
               {"created", std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()},
               {"key", key}};
  write_file_atomic(sidecar, info.dump(2));
  log_info("JIT: compiled in {:.1f} s into {}",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
           lib.string());
  return lib;
}

std::vector<CacheEntry> list_cache() {
  std::vector<CacheEntry> out;
  const fs::path dir = jit_cache_dir() / "model_lib";
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".so") continue;
    CacheEntry c;
    c.hash = e.path().stem().string();
    c.library = e.path();
    c.bytes = fs::file_size(e.path());
    try {
      c.info = Json::parse(read_file(dir / (c.hash + ".json")));
    } catch (const std::exception&) {
      c.info = Json();
    }
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const CacheEntry& a, const CacheEntry& b) { return a.hash < b.hash; });
  return out;
}

int clear_cache(const std::string& hash) {
  const fs::path dir = jit_cache_dir() / "model_lib";
  int removed = 0;
  for (const auto& e : list_cache()) {
    if (!hash.empty() && e.hash != hash) continue;
    std::error_code ec;
    fs::remove(e.library, ec);
    fs::remove(dir / (e.hash + ".json"), ec);
    fs::remove(dir / (e.hash + ".lock"), ec);
    ++removed;
  }
  if (!hash.empty() && removed == 0) user_error("no cache entry {}", hash);
  return removed;
}

}  // namespace llmcc
