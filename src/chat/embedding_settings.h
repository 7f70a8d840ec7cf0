// How an embedding model pools and truncates: mlc-chat-config.json's "embedding" object, which
// gen_config writes from the model's sentence-transformers config.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "runtime/pooling.h"
#include "support/json.h"

namespace llmcc {

struct EmbeddingSettings {
  Pooling pooling = Pooling::kCls;
  bool normalize = false;
  int64_t max_seq_length = 0;  // tokens, [CLS] and [SEP] included; 0: the library's limit

  // mlc-chat-config.json's "embedding" object; absent fields keep the defaults above. `where`
  // names the file in errors.
  static EmbeddingSettings from_json(const Json& config, const std::string& where);
  Json to_json() const;
};

// What sentence-transformers' modules say about pooling (1_Pooling/config.json), normalization
// (a Normalize module in modules.json) and truncation (sentence_bert_config.json) in `dir`;
// nullopt when the folder has no sentence-transformers config.
std::optional<EmbeddingSettings> sentence_transformers_settings(const std::filesystem::path& dir);

}  // namespace llmcc
