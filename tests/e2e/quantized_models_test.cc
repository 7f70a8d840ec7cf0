// Every group scheme end to end on the committed Hugging Face goldens: convert_weight -> compile
// -> teacher-forced scoring of the golden sequence, compared with the q0f32 build of the same
// model by mean KL divergence.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "config/config_source.h"
#include "convert/convert_weight.h"
#include "llmcc/compile.h"
#include "runtime/engine.h"
#include "runtime/quality.h"
#include "support/files.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests" / "data";

// Bounds on mean KL(q0f32 || scheme) in nats over the 44 positions of each golden sequence. The
// committed models have random weights scaled to give peaked distributions (top-2 margins of at
// least 1% of the logit range), which makes them far more sensitive to weight noise than trained
// models. Measured worst cases over both models: q8f16_1 0.012, 4-bit schemes 1.16, 3-bit 2.59;
// the bounds are about twice those.
const std::map<std::string, double> kKldBound = {
    {"q8f16_1", 0.025}, {"q4f32_1", 2.5},  {"q4f16_1", 2.5}, {"q4bf16_1", 2.5}, {"q4f16_2", 2.5},
    {"q4f16_0", 2.5},   {"q4bf16_0", 2.5}, {"q3f16_1", 5.0}, {"q3f16_0", 5.0},
};

struct Built {
  TempPath dir = make_temp_dir("llmcc-quant");
  std::unique_ptr<Engine> engine;
};

std::unique_ptr<Built> build(const std::string& model, const std::string& quantization) {
  auto b = std::make_unique<Built>();
  ConfigSource source = load_config_source((kData / "models" / model).string());
  const Quantization& q = Quantization::from_name(quantization);
  const Model& family = Model::from_name(detect_model_type("auto", source));
  convert_weight(source, q, family, {.output = b->dir.path() / "w"});
  compile(source.dict, q, family, Target::from_device("cpu"), OptimizationFlags::from_str("O2"),
          nullptr, "auto", b->dir.path() / "lib.so", ModelConfigOverride::from_str(""));
  b->engine = std::make_unique<Engine>(b->dir.path() / "w", b->dir.path() / "lib.so");
  return b;
}

class QuantizedModels : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizedModels, KlDivergenceAgainstQ0f32StaysBounded) {
  const std::string& model = GetParam();
  Json golden = read_json_file(kData / "goldens" / (model + ".json"));
  std::vector<int32_t> tokens = golden["prompt"].get<std::vector<int32_t>>();
  for (int32_t t : golden["tokens"].get<std::vector<int32_t>>()) tokens.push_back(t);
  auto base = build(model, "q0f32");
  std::map<std::string, double> kld;
  for (const auto& [scheme, bound] : kKldBound) {
    auto built = build(model, scheme);
    QualityReport r = evaluate_quality(*built->engine, base->engine.get(), tokens, 128);
    std::printf("[quant] %s %s: KLD %.5f, top-1 %.3f, PPL ratio %.4f\n", model.c_str(),
                scheme.c_str(), r.kld, r.top1, r.ppl / r.base_ppl);
    EXPECT_LE(r.kld, bound) << scheme;
    kld[scheme] = r.kld;
  }
  // Layouts change where bits live, not their values: NK and KN give the same model. On SIMD
  // machines q4f16_1 (NK, f16 scales) runs the int8-activation kernel and q4f16_0 (KN) the f32
  // one, so those two differ by the activations' int8 rounding: measured 0.5% and 0.1% on the
  // Llama models and 1.3% on qwen2_odd_sizes, whose random q/k/v biases widen the activations.
  // The bound is about twice the worst; the others share a kernel and must agree exactly.
  EXPECT_NEAR(kld["q4f16_0"], kld["q4f16_1"], 0.025 * kld["q4f16_1"]);
  EXPECT_NEAR(kld["q3f16_0"], kld["q3f16_1"], 1e-6);
  EXPECT_NEAR(kld["q4bf16_0"], kld["q4bf16_1"], 1e-6);
  // More bits, less divergence.
  EXPECT_LT(kld["q8f16_1"], kld["q4f16_1"]);
  EXPECT_LT(kld["q4f16_1"], kld["q3f16_1"]);
}

INSTANTIATE_TEST_SUITE_P(Goldens, QuantizedModels,
                         ::testing::Values("llama_gqa_tied", "llama_odd_sizes", "qwen2_odd_sizes",
                                           "qwen3_head_dim", "gemma_head_dim",
                                           "gemma2_softcap_window", "gemma3_local_global"));

}  // namespace
}  // namespace llmcc
