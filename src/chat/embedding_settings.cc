#include "chat/embedding_settings.h"

#include <fmt/format.h>

#include "support/error.h"

namespace llmcc {

namespace fs = std::filesystem;

EmbeddingSettings EmbeddingSettings::from_json(const Json& config, const std::string& where) {
  EmbeddingSettings s;
  if (!config.contains("embedding")) return s;
  const Json& e = config["embedding"];
  if (!e.is_object()) user_error("{}: 'embedding' must be an object", where);
  if (e.contains("pooling")) {
    if (!e["pooling"].is_string()) user_error("{}: embedding.pooling must be a string", where);
    s.pooling = pooling_from_name(e["pooling"], where + ": embedding.pooling");
  }
  if (e.contains("normalize")) {
    if (!e["normalize"].is_boolean())
      user_error("{}: embedding.normalize must be true or false", where);
    s.normalize = e["normalize"];
  }
  if (e.contains("max_seq_length")) {
    if (!e["max_seq_length"].is_number_integer() || e["max_seq_length"].get<int64_t>() < 0 ||
        e["max_seq_length"].get<int64_t>() == 1)
      user_error("{}: embedding.max_seq_length must be 0 (the library's limit) or an integer >= 2",
                 where);
    s.max_seq_length = e["max_seq_length"];
  }
  return s;
}

Json EmbeddingSettings::to_json() const {
  return {{"pooling", pooling_name(pooling)},
          {"normalize", normalize},
          {"max_seq_length", max_seq_length}};
}

std::optional<EmbeddingSettings> sentence_transformers_settings(const fs::path& dir) {
  const fs::path pooling_file = dir / "1_Pooling" / "config.json";
  if (!fs::exists(pooling_file)) return std::nullopt;
  const Json p = read_json_file(pooling_file);
  EmbeddingSettings s;
  if (p.value("pooling_mode_mean_tokens", false))
    s.pooling = Pooling::kMean;
  else if (p.value("pooling_mode_cls_token", false))
    s.pooling = Pooling::kCls;
  else
    throw NotImplementedError(
        fmt::format("{}: only the cls and mean pooling modes of sentence-transformers are built",
                    pooling_file.string()));
  if (fs::exists(dir / "modules.json"))
    for (const Json& m : read_json_file(dir / "modules.json"))
      if (m.is_object() && m.value("type", "") == "sentence_transformers.models.Normalize")
        s.normalize = true;
  if (fs::exists(dir / "sentence_bert_config.json")) {
    const Json b = read_json_file(dir / "sentence_bert_config.json");
    if (b.contains("max_seq_length") && b["max_seq_length"].is_number_integer())
      s.max_seq_length = b["max_seq_length"];
  }
  return s;
}

}  // namespace llmcc
