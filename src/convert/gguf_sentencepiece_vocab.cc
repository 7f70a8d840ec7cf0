#include "convert/gguf_sentencepiece_vocab.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "convert/gguf_import.h"
#include "support/error.h"
#include "tokenizer/utf8.h"

namespace llmcc {

namespace {

// llama.cpp's token types, which are SentencePiece's piece types.
enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4 };

struct Merge {
  int32_t left, right;  // piece ids
  float score;          // of the merged piece
};

// transformers' generate_merges with scores: every split of every piece into two pieces of the
// vocabulary is a merge; they are ranked by the merged piece's score, then by the lengths of the
// two halves, all descending, ties kept in (piece id, left id, right id) order.
std::vector<Merge> merges_from_scores(const std::vector<std::string>& pieces,
                                      const std::vector<float>& scores) {
  std::unordered_map<std::string, int32_t> id;
  id.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) id.emplace(pieces[i], static_cast<int32_t>(i));
  std::vector<Merge> merges;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& piece = pieces[i];
    std::vector<Merge> local;
    // Splits at character boundaries, as Python slices a str.
    size_t at = 0;
    for (const std::string& ch : utf8::chars(piece)) {
      at += ch.size();
      if (at >= piece.size()) break;
      auto l = id.find(piece.substr(0, at)), r = id.find(piece.substr(at));
      if (l != id.end() && r != id.end()) local.push_back({l->second, r->second, scores[i]});
    }
    std::sort(local.begin(), local.end(), [](const Merge& a, const Merge& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::vector<size_t> chars(pieces.size());  // lengths in characters, as Python's len()
  for (size_t i = 0; i < pieces.size(); ++i) chars[i] = utf8::chars(pieces[i]).size();
  std::stable_sort(merges.begin(), merges.end(), [&](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (chars[a.left] != chars[b.left]) return chars[a.left] > chars[b.left];
    return chars[a.right] > chars[b.right];
  });
  return merges;
}

}  // namespace

Json gguf_sentencepiece_tokenizer_json(const GgufFile& g) {
  const Json& m = g.metadata();
  const std::string file = g.path().string();
  if (!m.contains("tokenizer.ggml.tokens") || !m["tokenizer.ggml.tokens"].is_array())
    user_error("GGUF file '{}' has no tokenizer.ggml.tokens", file);
  const std::vector<std::string> pieces =
      m["tokenizer.ggml.tokens"].get<std::vector<std::string>>();
  std::vector<float> scores(pieces.size(), 0.0f);
  std::vector<int> types(pieces.size(), kNormal);
  if (m.contains("tokenizer.ggml.scores"))
    scores = m["tokenizer.ggml.scores"].get<std::vector<float>>();
  if (m.contains("tokenizer.ggml.token_type"))
    types = m["tokenizer.ggml.token_type"].get<std::vector<int>>();
  if (scores.size() != pieces.size() || types.size() != pieces.size())
    user_error(
        "GGUF file '{}': tokenizer.ggml.scores ({}) and token_type ({}) must list every "
        "one of the {} tokens",
        file, scores.size(), types.size(), pieces.size());
  if (m.value("tokenizer.ggml.remove_extra_whitespaces", false))
    throw NotImplementedError(fmt::format(
        "GGUF file '{}': a SentencePiece vocabulary that removes extra whitespace is not imported",
        file));
  // llama.cpp's default for SentencePiece vocabularies is a dummy prefix; Gemma writes false.
  const bool add_prefix = m.value("tokenizer.ggml.add_space_prefix", true);

  Json vocab = Json::object(), added = Json::array();
  for (size_t i = 0; i < pieces.size(); ++i) {
    vocab[pieces[i]] = i;
    const int type = types[i];
    if (type == kControl || type == kUserDefined || type == kUnknown)
      added.push_back(gguf_added_token(i, pieces[i], /*normalized=*/false,
                                       /*special=*/type != kUserDefined));
  }
  Json merges = Json::array();
  for (const Merge& mg : merges_from_scores(pieces, scores))
    merges.push_back(Json::array({pieces[mg.left], pieces[mg.right]}));

  const int64_t unk = m.value("tokenizer.ggml.unknown_token_id", int64_t{-1});
  Json normalizers = Json::array();
  if (add_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
  normalizers.push_back(
      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
  Json decoders = {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                   {{"type", "ByteFallback"}},
                   {{"type", "Fuse"}}};
  if (add_prefix)
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  // llama.cpp adds BOS for SentencePiece vocabularies unless the file says otherwise.
  const Json post = gguf_bos_post_processor(g, /*add_bos_by_default=*/true);
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", {{"type", "Sequence"}, {"normalizers", normalizers}}},
          {"pre_tokenizer", nullptr},
          {"post_processor", post},
          {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token",
             unk >= 0 && unk < static_cast<int64_t>(pieces.size()) ? Json(pieces[unk]) : Json()},
            {"fuse_unk", true},
            {"byte_fallback", true},
            {"ignore_merges", false},
            {"vocab", vocab},
            {"merges", merges}}}};
}

}  // namespace llmcc
