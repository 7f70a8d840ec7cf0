// MLC's OptimizationFlags: presets O0-O3 or "k=v;k=v", corrected for the target before use.
#pragma once

#include <string>

namespace llmcc {

struct Target;
struct Quantization;

enum class IPCAllReduceStrategy { kNone = 0, kOneShot = 1, kTwoShot = 2, kAuto = 3 };

struct OptimizationFlags {
  bool flashinfer = false;
  bool cublas_gemm = false;
  bool faster_transformer = false;
  bool cudagraph = false;
  bool cutlass = false;
  IPCAllReduceStrategy ipc_allreduce_strategy = IPCAllReduceStrategy::kNone;

  // "O0".."O3", or "k=v;k=v" where unspecified keys default to flashinfer=1 and the rest off.
  static OptimizationFlags from_str(const std::string& text);
  // Turns off flags the target cannot use, logging why (MLC's OptimizationFlags.update).
  void update(const Target& target, const Quantization& quantization);
  // "flashinfer=1;cublas_gemm=0;...;ipc_allreduce_strategy=NONE", as MLC prints and hashes it.
  std::string repr() const;
  bool operator==(const OptimizationFlags&) const = default;
};

}  // namespace llmcc
