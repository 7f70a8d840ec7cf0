// Checkpoints as the converter sees them: a multimodal checkpoint's language model under the
// text-only model's names, with the vision tower left out, in either of transformers' layouts.
#include "convert/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "convert/renamed_checkpoint.h"
#include "support/files.h"
#include "support/json.h"

namespace llmcc {
namespace {

// A safetensors file of f32 tensors, each [2] with values {i, i + 0.5}.
std::filesystem::path write_safetensors(const std::filesystem::path& dir,
                                        const std::vector<std::string>& names) {
  Json header = Json::object();
  std::string data;
  for (size_t i = 0; i < names.size(); ++i) {
    const float values[2] = {static_cast<float>(i), static_cast<float>(i) + 0.5f};
    header[names[i]] = {{"dtype", "F32"},
                        {"shape", {2}},
                        {"data_offsets", {data.size(), data.size() + sizeof(values)}}};
    data.append(reinterpret_cast<const char*>(values), sizeof(values));
  }
  const std::string text = header.dump();
  const uint64_t size = text.size();
  std::string file(reinterpret_cast<const char*>(&size), 8);
  write_file_atomic(dir / "model.safetensors", file + text + data);
  return dir / "model.safetensors";
}

class MultimodalCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(MultimodalCheckpoint, ServesTheLanguageModelUnderTextOnlyNames) {
  const std::string prefix = GetParam();
  TempPath dir = make_temp_dir("llmcc-ckpt");
  const auto file = write_safetensors(
      dir.path(), {"vision_tower.embeddings.patch_embedding.weight", prefix + "embed_tokens.weight",
                   prefix + "layers.0.input_layernorm.weight", "multi_modal_projector.w"});
  auto ckpt = open_checkpoint(file, "auto");
  EXPECT_EQ(ckpt->names(), (std::vector<std::string>{"model.embed_tokens.weight",
                                                     "model.layers.0.input_layernorm.weight"}));
  EXPECT_FALSE(ckpt->contains("vision_tower.embeddings.patch_embedding.weight"));
  const TensorView t = ckpt->load("model.layers.0.input_layernorm.weight");
  EXPECT_EQ(t.name, "model.layers.0.input_layernorm.weight");
  ASSERT_EQ(t.nbytes, 8u);
  float values[2];
  std::memcpy(values, t.data, 8);
  EXPECT_EQ(values[0], 2.0f);  // the third tensor written
  EXPECT_EQ(values[1], 2.5f);
  ckpt->release(t);
}

INSTANTIATE_TEST_SUITE_P(Layouts, MultimodalCheckpoint,
                         ::testing::Values("language_model.model.", "model.language_model."));

TEST(Checkpoint, TextOnlyNamesAreLeftAlone) {
  TempPath dir = make_temp_dir("llmcc-ckpt");
  const auto file =
      write_safetensors(dir.path(), {"model.embed_tokens.weight", "vision_tower.unrelated"});
  EXPECT_EQ(open_checkpoint(file, "auto")->names().size(), 2u);
}

TEST(Checkpoint, OtherPrefixesAreReadUnderTheModelsNames) {
  TempPath dir = make_temp_dir("llmcc-ckpt");
  // BertForMaskedLM: "bert." before the encoder's names, and a head of its own.
  const auto bert = write_safetensors(
      dir.path(), {"bert.embeddings.word_embeddings.weight", "cls.predictions.bias"});
  auto ckpt = with_expected_names(open_checkpoint(bert, "auto"),
                                  "embeddings.word_embeddings.weight", {{"", "bert."}});
  std::vector<std::string> names = ckpt->names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cls.predictions.bias",
                                             "embeddings.word_embeddings.weight"}));
  float values[2];
  const TensorView t = ckpt->load("embeddings.word_embeddings.weight");
  std::memcpy(values, t.data, 8);
  EXPECT_EQ(values[0], 0.0f);  // the first tensor written
  // GPT2Model: no "transformer." at all.
  TempPath dir2 = make_temp_dir("llmcc-ckpt");
  const auto gpt2 = write_safetensors(dir2.path(), {"wte.weight", "h.0.ln_1.weight"});
  ckpt = with_expected_names(open_checkpoint(gpt2, "auto"), "transformer.wte.weight",
                             {{"transformer.", ""}});
  EXPECT_TRUE(ckpt->contains("transformer.h.0.ln_1.weight"));
  EXPECT_FALSE(ckpt->contains("h.0.ln_1.weight"));
  // A checkpoint that already uses the model's names is left as it is.
  ckpt = with_expected_names(open_checkpoint(gpt2, "auto"), "wte.weight", {{"transformer.", ""}});
  EXPECT_TRUE(ckpt->contains("wte.weight"));
}

}  // namespace
}  // namespace llmcc
