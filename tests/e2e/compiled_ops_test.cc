// The ops that no family builder uses yet (LayerNorm, Gemma's RMSNorm, GELU in both forms and
// gated, the embedding scale, a bidirectional softcapped attention without RoPE) go through the
// whole CPU back end: text IR -> plan-memory -> codegen -> host compiler -> dlopen -> call,
// against a naive composition in double.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/parser.h"
#include "passes/passes.h"
#include "runtime/model_library.h"
#include "runtime/paged_kv_cache.h"
#include "support/files.h"
#include "targets/cpu/codegen.h"
#include "targets/cpu/toolchain.h"
#include "targets/target.h"
#include "tests/e2e/abi_tensor.h"

namespace llmcc {
namespace {

constexpr int kRows = 3, kH = 8;

const char* kModule = R"(module
param @w : f32[8]
param @b : f32[8]

func @f(%x: f32[3, 8]) -> (f32[3, 4]) {
  %0 = layer_norm(%x, @w, @b) {"eps":1e-05} : f32[3, 8]
  %1 = rms_norm(%0, @w) {"eps":1e-06,"round_before_weight":false,"weight_offset":1.0} : f32[3, 8]
  %2 = scale(%1) {"factor":1.5} : f32[3, 8]
  %3 = gelu(%2) {"approximate":"tanh"} : f32[3, 8]
  %4 = geglu(%3) {"approximate":"none"} : f32[3, 4]
  %5 = softcap(%4) {"cap":0.8} : f32[3, 4]
  return %5
}

func @attend(%qkv: f32[3, 12], %kv: kv_cache) -> (f32[3, 4]) {
  %0 = attention(%qkv, %kv) {"causal":false,"head_dim":4,"layer":0,"logit_softcap":0.75,"num_kv_heads":1,"num_q_heads":1,"rope":{"mode":"none"},"sm_scale":0.5} : f32[3, 4]
  return %0
}
)";

double gelu_exact(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }
double gelu_tanh(double v) {
  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
}

class CompiledOps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ir::Module m = ir::parse_module(kModule);
    m.attrs["metadata"] = {{"model_type", "ops_test"}};
    m.attrs["kv_cache"] = {{"num_hidden_layers", 1},
                           {"num_attention_heads", 1},
                           {"num_key_value_heads", 1},
                           {"head_dim", 4},
                           {"dtype", "float32"}};
    passes::plan_memory(m);
    dir_ = new TempPath(make_temp_dir("llmcc-ops"));
    cpu::build_library(cpu::emit_source(m, ""), Target::from_device("cpu"), LibraryKind::kShared,
                       dir_->path() / "ops.so");
    lib_ = new ModelLibrary(dir_->path() / "ops.so");
  }
  static void TearDownTestSuite() {
    delete lib_;
    delete dir_;
  }

  static std::vector<float> random(size_t n, uint32_t seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(gen);
    return v;
  }

  static llmcc_tensor tensor(float* data, const std::vector<int64_t>& shape) {
    return testing::abi_tensor(data, LLMCC_FLOAT32, shape);
  }

  static inline TempPath* dir_ = nullptr;
  static inline ModelLibrary* lib_ = nullptr;
};

TEST_F(CompiledOps, NormsActivationsScaleAndSoftcapMatchNaive) {
  auto x = random(kRows * kH, 1), w = random(kH, 2), b = random(kH, 3);
  std::vector<float> out(kRows * kH / 2, 0.0f);
  const void* params[] = {w.data(), b.data()};
  std::vector<char> ws(lib_->get("f").workspace_bytes + 64);
  llmcc_tensor in = tensor(x.data(), {kRows, kH}), res = tensor(out.data(), {kRows, kH / 2});
  lib_->call("f", &in, 1, &res, 1, nullptr, params, ws.data());
  double err = 0, ref_norm = 0;
  for (int r = 0; r < kRows; ++r) {
    std::vector<double> v(x.begin() + r * kH, x.begin() + (r + 1) * kH);
    double mean = 0, var = 0, ss = 0;
    for (double e : v) mean += e / kH;
    for (double e : v) var += (e - mean) * (e - mean) / kH;
    for (int i = 0; i < kH; ++i) v[i] = (v[i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i];
    for (double e : v) ss += e * e / kH;
    for (int i = 0; i < kH; ++i) v[i] = gelu_tanh(v[i] / std::sqrt(ss + 1e-6) * (1 + w[i]) * 1.5);
    for (int i = 0; i < kH / 2; ++i) {
      const double want = 0.8 * std::tanh(gelu_exact(v[i]) * v[i + kH / 2] / 0.8);
      err += (out[r * kH / 2 + i] - want) * (out[r * kH / 2 + i] - want);
      ref_norm += want * want;
    }
  }
  EXPECT_LT(err / ref_norm, 1e-10);
}

TEST_F(CompiledOps, BidirectionalSoftcappedAttentionWithoutRopeMatchesNaive) {
  auto qkv = random(kRows * 12, 4);
  std::vector<float> out(kRows * 4, 0.0f);
  llmcc_kv_cache* raw = lib_->create_kv_cache(1, 16, 16, 4);
  {
    PagedKVCache kv(raw, [&](int64_t s, int64_t d) { lib_->copy_kv_page(raw, s, d); });
    kv.add_sequence(0);
    kv.begin_forward({0}, {kRows});
    std::vector<char> ws(lib_->get("attend").workspace_bytes + 64);
    llmcc_tensor in = tensor(qkv.data(), {kRows, 12}), res = tensor(out.data(), {kRows, 4});
    lib_->call("attend", &in, 1, &res, 1, kv.raw(), nullptr, ws.data());
    kv.end_forward();
  }
  lib_->free_kv_cache(raw);
  double err = 0, ref_norm = 0;
  for (int r = 0; r < kRows; ++r) {
    // Every row sees all three keys, later ones included.
    std::vector<double> s(kRows);
    double mx = -1e300, sum = 0;
    for (int j = 0; j < kRows; ++j) {
      double dot = 0;
      for (int i = 0; i < 4; ++i) dot += qkv[r * 12 + i] * qkv[j * 12 + 4 + i];
      s[j] = 0.75 * std::tanh(dot * 0.5 / 0.75);
      mx = std::max(mx, s[j]);
    }
    for (double& e : s) sum += (e = std::exp(e - mx));
    for (int i = 0; i < 4; ++i) {
      double want = 0;
      for (int j = 0; j < kRows; ++j) want += s[j] / sum * qkv[j * 12 + 8 + i];
      err += (out[r * 4 + i] - want) * (out[r * 4 + i] - want);
      ref_norm += want * want;
    }
  }
  EXPECT_LT(err / ref_norm, 1e-10);
}

}  // namespace
}  // namespace llmcc
