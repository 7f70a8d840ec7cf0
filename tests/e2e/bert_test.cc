// BERT end to end against transformers (tools/python/make_bert_goldens.py): the encoder library
// on a padded batch of sequences of different lengths, and `llmcc embed` from text to
// sentence-transformers' mean-pooled, normalized embeddings.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "chat/embedder.h"
#include "config/config_source.h"
#include "convert/convert_weight.h"
#include "llmcc/compile.h"
#include "runtime/engine.h"
#include "runtime/model_library.h"
#include "support/error.h"
#include "support/files.h"
#include "support/npy.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
using testing::run_llmcc;

const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests" / "data";
const fs::path kModel = kData / "models" / "bert_tiny";

Json golden() { return read_json_file(kData / "goldens" / "bert_tiny.json"); }

struct Built {
  TempPath dir = make_temp_dir("llmcc-bert");
  fs::path weights() const { return dir.path() / "w"; }
  fs::path lib() const { return dir.path() / "lib.so"; }
};

std::unique_ptr<Built> build(const std::string& quantization) {
  auto b = std::make_unique<Built>();
  ConfigSource source = load_config_source(kModel.string());
  const Quantization& q = Quantization::from_name(quantization);
  const Model& model = Model::from_name(detect_model_type("auto", source));
  convert_weight(source, q, model, {.output = b->weights()});
  compile(source.dict, q, model, Target::from_device("cpu"), OptimizationFlags::from_str("O2"),
          nullptr, "auto", b->lib(), ModelConfigOverride::from_str(""));
  return b;
}

double cosine(const std::vector<float>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += double(a[i]) * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

struct BertCase {
  std::string quantization;
  // max |hidden - golden| / max |golden| over every real token of the batch. q0f32: the issue's
  // 1e-4. q0f16: activations stored in f16 (unit roundoff 4.9e-4) after each of about 12 ops per
  // layer, two layers, each LayerNorm renormalizing; measured 1.4e-3.
  double bound;
};

class BertParity : public ::testing::TestWithParam<BertCase> {};

TEST_P(BertParity, PaddedBatchMatchesTransformers) {
  const Json g = golden();
  auto b = build(GetParam().quantization);
  ModelLibrary library(b->lib());
  EXPECT_EQ(library.metadata()["kv_state_kind"], "none");
  EXPECT_EQ(library.metadata()["model_task"], "embedding");
  EXPECT_FALSE(library.has_kv_cache());
  EXPECT_FALSE(library.metadata().contains("kv_cache"));

  Encoder encoder(b->weights(), b->lib(), true);
  const auto sequences = g["sequences"].get<std::vector<std::vector<int32_t>>>();
  // One padded call with every sequence (lengths 11, 5, 8, 1), then each alone: a row must not
  // depend on what else is in its batch.
  const auto together = encoder.encode(sequences);
  double max_ref = 0, max_diff = 0, max_batch_diff = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const auto alone = encoder.encode({sequences[s]})[0];
    const Json& ref = g["hidden"][s];
    ASSERT_EQ(together[s].size(), ref.size() * 64);
    for (size_t t = 0; t < ref.size(); ++t)
      for (size_t i = 0; i < 64; ++i) {
        const double r = ref[t][i].get<double>(), v = together[s][t * 64 + i];
        max_ref = std::max(max_ref, std::abs(r));
        max_diff = std::max(max_diff, std::abs(v - r));
        max_batch_diff = std::max(max_batch_diff, double(std::abs(alone[t * 64 + i] - v)));
      }
  }
  std::printf("[bert] %s: max |dh| = %.3g, relative %.3g (bound %.0e); batch vs alone %.3g\n",
              GetParam().quantization.c_str(), max_diff, max_diff / max_ref, GetParam().bound,
              max_batch_diff);
  EXPECT_LE(max_diff, GetParam().bound * max_ref);
  EXPECT_LE(max_batch_diff, GetParam().bound * max_ref);
}

INSTANTIATE_TEST_SUITE_P(Golden, BertParity,
                         ::testing::Values(BertCase{"q0f32", 1e-4}, BertCase{"q0f16", 1e-2}),
                         [](const auto& info) { return info.param.quantization; });

TEST(BertCli, EmbedTextMatchesSentenceTransformersPooling) {
  const Json g = golden();
  TempPath dir = make_temp_dir("llmcc-bert-cli");
  const std::string w = (dir.path() / "w").string(), home = (dir.path() / "home").string();
  ASSERT_EQ(run_llmcc("convert_weight " + kModel.string() + " --quantization q0f32 -o " + w).status,
            0);
  auto gen = run_llmcc("gen_config " + kModel.string() + " --quantization q0f32 -o " + w);
  ASSERT_EQ(gen.status, 0) << gen.output;
  // gen_config found the sentence-transformers modules: mean pooling, then normalization.
  const Json chat = read_json_file(fs::path(w) / "mlc-chat-config.json");
  EXPECT_EQ(chat["embedding"]["pooling"], "mean");
  EXPECT_EQ(chat["embedding"]["normalize"], true);
  EXPECT_EQ(chat["model_task"], "embedding");

  std::string args = " embed " + w;
  for (const Json& t : g["texts"]) args += " --text '" + t.get<std::string>() + "'";
  const std::string npy = (dir.path() / "e.npy").string();
  // No --model-lib: compiled on demand into this test's cache.
  auto r = testing::run_command("LLMCC_HOME=" + home + " " + LLMCC_BINARY + args + " --out " + npy);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto rows = read_npy_f32(npy);
  ASSERT_EQ(rows.size(), g["texts"].size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto ref = g["embeddings"][i].get<std::vector<double>>();
    ASSERT_EQ(rows[i].size(), ref.size());
    double max_diff = 0;
    for (size_t k = 0; k < ref.size(); ++k)
      max_diff = std::max(max_diff, std::abs(rows[i][k] - ref[k]));
    EXPECT_GE(cosine(rows[i], ref), 0.9999) << g["texts"][i];
    EXPECT_LE(max_diff, 1e-4) << g["texts"][i];  // unit vectors: absolute is relative
  }

  // The ids path, unpooled: [tokens, hidden], the same numbers as the library's last hidden state.
  const std::string ids = (dir.path() / "h.npy").string();
  std::string id_list;
  for (const Json& t : g["text_ids"][0]) id_list += (id_list.empty() ? "" : ",") + t.dump();
  r = testing::run_command("LLMCC_HOME=" + home + " " + LLMCC_BINARY + " embed " + w +
                           " --input-ids " + id_list + " --pooling none --out " + ids);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_npy_f32(ids).size(), g["text_ids"][0].size());

  // Mistakes are named.
  auto both = run_llmcc("embed " + w + " --text a --input-ids 1,2");
  EXPECT_NE(both.status, 0);
  EXPECT_NE(both.output.find("not both"), std::string::npos) << both.output;
  auto pooling = run_llmcc("embed " + w + " --text a --pooling max");
  EXPECT_NE(pooling.status, 0);
  EXPECT_NE(pooling.output.find("cls, mean or none"), std::string::npos) << pooling.output;
}

TEST(BertCli, EncodersAndDecodersRefuseTheWrongCommand) {
  auto b = build("q0f32");
  try {
    Engine engine(b->weights(), b->lib(), {});
    ADD_FAILURE() << "an encoder library ran as a decoder";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("run it with llmcc embed"), std::string::npos) << e.what();
  }
  // bench knows an encoder: it times batches of sequences.
  const auto bench = run_llmcc("bench " + b->weights().string() + " --model-lib " +
                               b->lib().string() + " --prompt 12 --batch 3 --runs 2 --json");
  ASSERT_EQ(bench.status, 0) << bench.output;
  const Json report = Json::parse(bench.output.substr(bench.output.find('{')));
  EXPECT_EQ(report["sequences"], 3);
  EXPECT_EQ(report["tokens_per_sequence"], 12);
  EXPECT_GT(report["tokens_per_s"].get<double>(), 0);
  const auto too_long = run_llmcc("bench " + b->weights().string() + " --model-lib " +
                                  b->lib().string() + " --prompt 65");
  EXPECT_NE(too_long.status, 0);
  EXPECT_NE(too_long.output.find("--prompt must be in [1, 64]"), std::string::npos)
      << too_long.output;
  const auto out = run_llmcc("embed " + b->weights().string() + " --model-lib " +
                             b->lib().string() + " --input-ids 1,2,99999");
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.output.find("outside the vocabulary"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace llmcc
