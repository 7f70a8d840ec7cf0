#include "compile/optimization_flags.h"

#include <fmt/format.h>

#include <vector>

#include "config/key_value_list.h"
#include "quant/quantization.h"
#include "support/error.h"
#include "support/logging.h"
#include "targets/target.h"

namespace llmcc {

namespace {

const char* strategy_name(IPCAllReduceStrategy s) {
  switch (s) {
    case IPCAllReduceStrategy::kNone:
      return "NONE";
    case IPCAllReduceStrategy::kOneShot:
      return "ONESHOT";
    case IPCAllReduceStrategy::kTwoShot:
      return "TWOSHOT";
    case IPCAllReduceStrategy::kAuto:
      return "AUTO";
  }
  return "NONE";
}

bool parse_bool01(const std::string& key, const std::string& value) {
  if (value == "0") return false;
  if (value == "1") return true;
  user_error("--opt: '{}' must be 0 or 1, got '{}'", key, value);
}

OptimizationFlags preset(int level) {
  OptimizationFlags f;
  using S = IPCAllReduceStrategy;
  switch (level) {
    case 0:
      break;
    case 1:
      f = {false, true, true, false, true, S::kNone};
      break;
    case 2:
      f = {true, true, false, true, true, S::kNone};
      break;
    case 3:
      f = {true, true, true, true, true, S::kAuto};
      break;
  }
  return f;
}

}  // namespace

OptimizationFlags OptimizationFlags::from_str(const std::string& text) {
  if (text.size() == 2 && text[0] == 'O' && text[1] >= '0' && text[1] <= '3')
    return preset(text[1] - '0');
  static const std::vector<std::string> fields = {
      "flashinfer", "cublas_gemm", "faster_transformer",
      "cudagraph",  "cutlass",     "ipc_allreduce_strategy"};
  OptimizationFlags f;
  f.flashinfer = true;  // MLC's default in the k=v form
  for (const auto& [key, value] : parse_key_value_list(text, fields, "--opt")) {
    if (key == "flashinfer")
      f.flashinfer = parse_bool01(key, value);
    else if (key == "cublas_gemm")
      f.cublas_gemm = parse_bool01(key, value);
    else if (key == "faster_transformer")
      f.faster_transformer = parse_bool01(key, value);
    else if (key == "cudagraph")
      f.cudagraph = parse_bool01(key, value);
    else if (key == "cutlass")
      f.cutlass = parse_bool01(key, value);
    else if (key == "ipc_allreduce_strategy") {
      if (value == "NONE")
        f.ipc_allreduce_strategy = IPCAllReduceStrategy::kNone;
      else if (value == "ONESHOT")
        f.ipc_allreduce_strategy = IPCAllReduceStrategy::kOneShot;
      else if (value == "TWOSHOT")
        f.ipc_allreduce_strategy = IPCAllReduceStrategy::kTwoShot;
      else if (value == "AUTO")
        f.ipc_allreduce_strategy = IPCAllReduceStrategy::kAuto;
      else
        user_error(
            "--opt: ipc_allreduce_strategy must be one of NONE, ONESHOT, TWOSHOT, AUTO; got '{}'",
            value);
    }
  }
  return f;
}

void OptimizationFlags::update(const Target& target, const Quantization& quantization) {
  const bool cuda = target.kind == "cuda";
  auto disable = [](bool& flag, const char* name, const std::string& why) {
    if (!flag) return;
    flag = false;
    log_info("Optimization flag {} disabled: {}", name, why);
  };
  if (flashinfer) {
    if (!cuda)
      disable(flashinfer, "flashinfer", "it needs a CUDA target, got " + target.kind);
    else if (target.cuda_arch > 0 && target.cuda_arch < 80)
      disable(flashinfer, "flashinfer", "flashinfer is not supported on CUDA arch < 80");
  }
  const std::string& q = quantization.name;
  bool unquantized = q == "q0f16" || q == "q0bf16" || q == "q0f32" ||
                     q.find("e4m3") != std::string::npos || q.find("e5m2") != std::string::npos;
  if (!(target.kind == "cuda" || target.kind == "rocm"))
    disable(cublas_gemm, "cublas_gemm", "it needs a CUDA or ROCm target, got " + target.kind);
  else if (!unquantized)
    disable(cublas_gemm, "cublas_gemm", "it serves only unquantized or fp8 schemes, got " + q);
  if (!cuda) {
    disable(faster_transformer, "faster_transformer", "it needs a CUDA target, got " + target.kind);
    disable(cudagraph, "cudagraph", "it needs a CUDA target, got " + target.kind);
    disable(cutlass, "cutlass", "it needs a CUDA target, got " + target.kind);
  }
}

std::string OptimizationFlags::repr() const {
  return fmt::format(
      "flashinfer={};cublas_gemm={};faster_transformer={};cudagraph={};cutlass={};"
      "ipc_allreduce_strategy={}",
      int(flashinfer), int(cublas_gemm), int(faster_transformer), int(cudagraph), int(cutlass),
      strategy_name(ipc_allreduce_strategy));
}

}  // namespace llmcc
