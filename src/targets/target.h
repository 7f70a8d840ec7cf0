// A compilation target, parsed from MLC-style --device/--host strings.
#pragma once

#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc {

struct Target {
  std::string kind;         // "llvm" for CPU (TVM's name), "cuda", ...
  std::string device;       // as the user asked: "cpu", "auto", "llvm -mcpu=znver3", ...
  std::string mcpu;         // CPU model for the host compiler (-march=), "native" = this machine
  bool mcpu_given = false;  // whether --device named it (else native, or generic when crossing)
  std::string mtriple;      // target triple, e.g. x86_64-linux-gnu
  std::vector<std::string> mattr;  // extra features, e.g. +avx2
  int cuda_arch = 0;               // sm_XX as XX; 0 when not CUDA

  // Resolves --device and --host. Unknown devices are a UserError; known but unimplemented ones
  // (cuda, metal, ...) a NotImplementedError naming the implemented targets.
  static Target from_device(const std::string& device, const std::string& host = "auto");
  Json to_json() const;
};

}  // namespace llmcc
