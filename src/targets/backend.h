// What the compiler asks of a target, and the one list of targets (targets/registry.cc). compile
// reaches a target only through this interface: which ops it runs and with which kernel (its
// select-kernels pass), the code for an optimized module, and the library built from that code.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"
#include "targets/target.h"

namespace llmcc {

enum class LibraryKind { kShared, kStatic };

// ".so"/".dylib"/".dll" -> shared, ".tar"/".lib" -> static objects; anything else is shared with a
// warning, as MLC does.
LibraryKind library_kind_for(const std::filesystem::path& output);

class Backend {
 public:
  virtual ~Backend() = default;

  // The registry entry's name, e.g. "x86-64 CPU".
  virtual std::string name() const = 0;

  // The select-kernels pass: records on every op the kernel that runs it here (attrs.kernel, e.g.
  // "linear_int8_dot<4>/avx512-vnni"; a UserError names an op the target cannot run), the weight
  // layouts those kernels read, and in the metadata what a machine needs to run the library.
  virtual void select_kernels(ir::Module& m) const = 0;
  // The source of the library, from a module that went through the whole pipeline.
  virtual std::string emit(const ir::Module& m, const std::string& symbol_prefix) const = 0;
  // Builds `source` into `output` atomically.
  virtual void build(const std::string& source, LibraryKind kind,
                     const std::filesystem::path& output) const = 0;
  // What builds the libraries (compiler and version), for the JIT cache key.
  virtual std::string toolchain_identity() const = 0;
};

// The backend of the registry entry that accepts `target`; UserError naming the targets there
// are when none does.
std::unique_ptr<Backend> make_backend(const Target& target);

// The registry's entries, for --help and errors: name and the --device that selects it.
struct TargetEntry {
  const char* name;
  const char* device_example;
  bool (*accepts)(const Target&);
  std::unique_ptr<Backend> (*make)(const Target&);
};
const std::vector<TargetEntry>& target_entries();

}  // namespace llmcc
