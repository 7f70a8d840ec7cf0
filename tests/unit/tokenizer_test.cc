// The C++ tokenizer against Hugging Face `tokenizers` (goldens from
// tools/python/make_tokenizer_goldens.py): identical ids, identical decodes, and streaming that
// reproduces the full decode without ever splitting a UTF-8 character.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "convert/gguf_import.h"
#include "support/error.h"
#include "support/files.h"
#include "support/json.h"
#include "tokenizer/utf8.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(LLMCC_SOURCE_DIR) / "tests/data/tokenizers";

// `tok` against the goldens of `family`: ids with and without special tokens, decodes, and
// streaming.
void expect_goldens(const Tokenizer& t, const std::string& family) {
  const Tokenizer* tok = &t;
  Json goldens = read_json_file(kDir / "goldens.json")[family];
  ASSERT_GE(goldens.size(), 15u);
  for (const auto& c : goldens) {
    const std::string text = c["text"];
    auto ids = tok->encode(text, false);
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << family << ": " << text;
    EXPECT_EQ(tok->encode(text, true), c["ids_with_special"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(tok->decode(c["ids"].get<std::vector<int32_t>>()), c["decoded"].get<std::string>())
        << text;
    // Streaming gives the same text, piece by piece, each piece valid UTF-8.
    StreamDecoder stream(*tok);
    std::string streamed;
    for (int32_t id : ids) {
      std::string piece = stream.push(id);
      EXPECT_EQ(utf8::complete_prefix(piece), piece.size()) << "broken UTF-8 piece in " << text;
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << text;
      streamed += piece;
    }
    streamed += stream.finish();
    EXPECT_EQ(streamed, c["decoded"].get<std::string>()) << text;
  }
}

class TokenizerGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGoldens, MatchHuggingFace) {
  expect_goldens(*Tokenizer::from_dir(kDir / GetParam()), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerGoldens,
                         ::testing::Values("bytelevel", "llama", "metaspace", "sentencepiece",
                                           "gemma", "llama_sp"));

// The Gemma 3 GGUF twin carries the Gemma-style SentencePiece test vocabulary as llama.cpp writes
// one (pieces, scores, token types, no space prefix); imported, it tokenizes as the tokenizer.json
// that transformers makes of the same SentencePiece model.
// The same path serves Llama 2's vocabularies, which add a dummy space prefix.
class GgufSentencePieceVocabulary
    : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(GgufSentencePieceVocabulary, TokenizesLikeHuggingFace) {
  const auto& [file, family] = GetParam();
  GgufFile gguf(fs::path(LLMCC_SOURCE_DIR) / "tests/data/gguf" / file);
  TempPath dir = make_temp_dir("llmcc-gguf-vocab");
  write_file_atomic(dir.path() / "tokenizer.json", gguf_tokenizer_json(gguf).dump());
  auto tok = Tokenizer::from_json_file(dir.path() / "tokenizer.json");
  EXPECT_EQ(tok->vocab_size(), 512);
  expect_goldens(*tok, family);
}

INSTANTIATE_TEST_SUITE_P(
    Goldens, GgufSentencePieceVocabulary,
    ::testing::Values(std::pair<std::string, std::string>{"gemma3_local_global.gguf", "gemma"},
                      std::pair<std::string, std::string>{"llama_sp_vocab.gguf", "llama_sp"}),
    [](const auto& info) { return info.param.second; });

TEST(Tokenizer, ByteLevelRoundTripsAnyText) {
  auto tok = Tokenizer::from_dir(kDir / "bytelevel");
  for (std::string text :
       {"plain", "  \t\n mixed\u00e9\u4e2d\xf0\x9f\xa6\x99 ", "<|im_end|> inside"})
    EXPECT_EQ(tok->decode(tok->encode(text)), text);
}

TEST(Tokenizer, SpecialTokensAndLookup) {
  auto tok = Tokenizer::from_dir(kDir / "llama");
  EXPECT_EQ(tok->token_to_id("<s>"), 1);
  EXPECT_EQ(tok->token_to_id("</s>"), 2);
  EXPECT_EQ(tok->token_to_id("<0x41>"), 3 + 0x41);
  EXPECT_FALSE(tok->token_to_id("no such piece"));
  EXPECT_TRUE(tok->is_special(2));
  EXPECT_FALSE(tok->is_special(3));
  EXPECT_EQ(tok->decode({1, 2}, /*skip_special_tokens=*/true), "");
  EXPECT_EQ(tok->vocab_size(), 572);
}

TEST(Tokenizer, StreamingHoldsBackPartialCharacters) {
  auto tok = Tokenizer::from_dir(kDir / "llama");
  // The llama fixture spells the llama emoji (4 bytes) with byte-fallback tokens.
  std::vector<int32_t> ids = tok->encode("\xf0\x9f\xa6\x99");
  ASSERT_GE(ids.size(), 4u);
  StreamDecoder stream(*tok);
  std::string out;
  for (size_t i = 0; i + 1 < ids.size(); ++i) out += stream.push(ids[i]);
  EXPECT_EQ(out.find("\xf0"), std::string::npos);  // nothing of the emoji yet
  out += stream.push(ids.back());
  EXPECT_NE(out.find("\xf0\x9f\xa6\x99"), std::string::npos);
  EXPECT_EQ(utf8_lossy("a\xf0\x9f"), "a\xEF\xBF\xBD");  // one per truncated character
  EXPECT_EQ(utf8_lossy("\x80x"), "\xEF\xBF\xBDx");
}

// BPE over long words (a SentencePiece-style vocabulary has no pre-tokenizer: the prompt is one
// word) against the plain algorithm: merge the lowest-ranked pair, the leftmost of equals, until
// none is left. Random words over a small alphabet with overlapping, chained merges.
TEST(Tokenizer, BpeMergesLikeTheNaiveAlgorithmOnLongWords) {
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"a", "a"},  {"a", "b"}, {"b", "c"},  {"aa", "a"},    {"ab", "c"},  {"c", "a"},
      {"aa", "b"}, {"b", "b"}, {"ca", "b"}, {"abc", "abc"}, {"aa", "aa"}, {"c", "c"}};
  Json vocab = Json::object();
  for (const char* t : {"a", "b", "c"}) vocab[t] = vocab.size();
  Json merge_list = Json::array();
  for (const auto& [l, r] : merges) {
    if (!vocab.contains(l + r)) vocab[l + r] = vocab.size();
    merge_list.push_back(l + " " + r);
  }
  const Json spec = {{"version", "1.0"},
                     {"added_tokens", Json::array()},
                     {"normalizer", nullptr},
                     {"pre_tokenizer", nullptr},
                     {"post_processor", nullptr},
                     {"decoder", nullptr},
                     {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}}}};
  TempPath dir = make_temp_dir("llmcc-bpe");
  write_file_atomic(dir.path() / "tokenizer.json", spec.dump());
  auto tok = Tokenizer::from_json_file(dir.path() / "tokenizer.json");
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string word;
    const int length = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < length; ++i) word += "abc"[rng() % 3];
    std::vector<std::string> symbols;
    for (char ch : word) symbols.emplace_back(1, ch);
    while (true) {
      size_t best = symbols.size(), best_rank = merges.size();
      for (size_t i = 0; i + 1 < symbols.size(); ++i)
        for (size_t m = 0; m < best_rank; ++m)
          if (merges[m].first == symbols[i] && merges[m].second == symbols[i + 1]) {
            best = i, best_rank = m;
            break;
          }
      if (best == symbols.size()) break;
      symbols[best] += symbols[best + 1];
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    std::vector<int32_t> want;
    for (const auto& sym : symbols) want.push_back(vocab[sym].get<int32_t>());
    ASSERT_EQ(tok->encode(word, false), want) << word;
  }
}

TEST(Tokenizer, ClearErrors) {
  EXPECT_THROW(Tokenizer::from_dir(kDir / "missing"), UserError);
  EXPECT_THROW(Tokenizer::from_json_file(kDir / "goldens.json"), UserError);
}

}  // namespace
}  // namespace llmcc
