#include "convert/gen_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "chat/conversation.h"
#include "chat/embedding_settings.h"
#include "config/config_source.h"
#include "models/model.h"
#include "quant/quantization.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

namespace fs = std::filesystem;

namespace {

const char* kTokenizerFiles[] = {"tokenizer.model", "tokenizer.json",    "vocab.json",
                                 "merges.txt",      "added_tokens.json", "tokenizer_config.json"};

// MLC's tokenizer_info: how decoded pieces become text.
Json tokenizer_info(const fs::path& dir) {
  Json info = {{"token_postproc_method", "byte_fallback"},
               {"prepend_space_in_encode", false},
               {"strip_space_in_decode", false}};
  if (!fs::exists(dir / "tokenizer.json")) return info;
  const UnorderedJson t = read_unordered_json_file(dir / "tokenizer.json");
  std::string dump = t.value("decoder", UnorderedJson()).dump();
  if (dump.find("\"ByteLevel\"") != std::string::npos) info["token_postproc_method"] = "byte_level";
  if (dump.find("\"Strip\"") != std::string::npos ||
      dump.find("\"Metaspace\"") != std::string::npos)
    info["strip_space_in_decode"] = true;
  std::string front = t.value("normalizer", UnorderedJson()).dump() +
                      t.value("pre_tokenizer", UnorderedJson()).dump();
  if (front.find("\"Prepend\"") != std::string::npos ||
      front.find("\"Metaspace\"") != std::string::npos)
    info["prepend_space_in_encode"] = true;
  return info;
}

}  // namespace

std::string default_conv_template(const std::string& model_type) {
  static const std::pair<const char*, const char*> kDefaults[] = {
      {"qwen2", "chatml"},
      {"qwen3", "chatml"},
      {"mistral", "mistral_default"},
      {"gemma", "gemma_instruction"},
      {"gemma2", "gemma_instruction"},
      {"gemma3", "gemma3_instruction"},
      {"gemma3_text", "gemma3_instruction"},
      {"phi3", "phi-3"},
      // Base models without a chat format (GPT-2, Pythia) continue plain text, as MLC's "LM";
      // an encoder has no conversation at all.
      {"gpt2", "LM"},
      {"gpt_neox", "LM"},
      {"bert", "LM"}};
  for (const auto& [type, conv] : kDefaults)
    if (model_type == type) return conv;
  // Llama's chat format changed between versions (llama-2, llama-3, llama-3_1); no safe guess.
  user_error("model type '{}' has no default conversation template; pass --conv-template ({})",
             model_type, fmt::join(Conversation::template_names(), ", "));
}

Json gen_config(const GenConfigOptions& o) {
  if (o.output.empty()) user_error("gen_config needs an output folder (-o)");
  ConfigSource source = load_config_source(o.config);
  const Quantization& q = Quantization::from_name(o.quantization);
  const Model& model = Model::from_name(detect_model_type(o.model_type, source));
  model.require_implemented();
  Conversation conv = Conversation::from_template(
      o.conv_template.empty() || o.conv_template == "auto" ? default_conv_template(model.name)
                                                           : o.conv_template);
  if (o.system_message) conv.system_message = *o.system_message;

  std::optional<int64_t> active_vocab_size;
  Json flat = flatten_model_config(source.dict, &active_vocab_size);
  auto config = model.config_from_dict(flat, source.context);
  ModelConfigOverride overrides = o.overrides;
  // MLC's gen_config default for decoders. An encoder's workspace is sized for max_batch_size
  // padded sequences, so it keeps its config's smaller default.
  if (!overrides.max_batch_size && model.model_task == "chat") overrides.max_batch_size = 128;
  Json model_config = overrides.apply(config->asdict(), config->class_name());
  config = model.config_from_dict(model_config, source.context + " after overrides");
  model_config = config->asdict();

  // Defaults: generation_config.json, then config.json, then MLC's system defaults.
  const fs::path dir = source.file ? source.file->parent_path() : fs::path();
  Json generation = !dir.empty() && fs::exists(dir / "generation_config.json")
                        ? read_json_file(dir / "generation_config.json")
                        : Json::object();
  auto pick = [&](const char* key, Json fallback) -> Json {
    if (generation.contains(key) && !generation[key].is_null()) return generation[key];
    if (source.dict.contains(key) && !source.dict[key].is_null()) return source.dict[key];
    return fallback;
  };
  // The caller's sampling default for `key` (a GGUF import's), else `fallback`.
  auto sampling_default = [&](const char* key, Json fallback) -> Json {
    const Json& d = o.sampling_defaults;
    return d.contains(key) && !d[key].is_null() ? d[key] : fallback;
  };
  auto pick_sampling = [&](const char* key, Json fallback) -> Json {
    return pick(key, sampling_default(key, fallback));
  };

  fs::create_directories(o.output);
  std::vector<std::string> copied;
  for (const char* f : kTokenizerFiles)
    if (!dir.empty() && fs::exists(dir / f)) {
      install_file_atomic(dir / f, o.output / f);
      copied.push_back(f);
    }
  if (copied.empty())
    log_warning("no tokenizer files found in '{}'; chat will not work", dir.string());
  if (!active_vocab_size && !dir.empty() &&
      (fs::exists(dir / "tokenizer.json") || fs::exists(dir / "tokenizer.model")))
    active_vocab_size = Tokenizer::from_dir(dir)->vocab_size();

  Json out;
  out["version"] = "0.1.0";
  out["model_type"] = model.name;
  out["quantization"] = q.name;
  out["model_config"] = model_config;
  out["vocab_size"] = model_config["vocab_size"];
  out["context_window_size"] = config->context_window_size();
  out["sliding_window_size"] = config->sliding_window_size();
  out["prefill_chunk_size"] = config->prefill_chunk_size();
  out["attention_sink_size"] = config->attention_sink_size();
  out["tensor_parallel_shards"] = config->tensor_parallel_shards();
  out["pipeline_parallel_stages"] = config->pipeline_parallel_stages();
  out["active_vocab_size"] = active_vocab_size ? Json(*active_vocab_size) : Json();
  out["temperature"] = pick_sampling("temperature", 1.0);
  out["presence_penalty"] = pick_sampling("presence_penalty", 0.0);
  out["frequency_penalty"] = pick_sampling("frequency_penalty", 0.0);
  out["repetition_penalty"] = pick_sampling("repetition_penalty", 1.0);
  out["top_p"] = pick_sampling("top_p", 1.0);
  // llmcc's additions to MLC's fields (0: off), read by chat and serve. Only from
  // generation_config.json: old config.json files carry transformers' placeholder top_k of 50.
  auto pick_generation = [&](const char* key, Json fallback) -> Json {
    if (generation.contains(key) && !generation[key].is_null()) return generation[key];
    return sampling_default(key, fallback);
  };
  out["top_k"] = pick_generation("top_k", 0);
  out["min_p"] = pick_generation("min_p", 0.0);
  out["tokenizer_files"] = copied;
  out["tokenizer_info"] = tokenizer_info(dir.empty() ? o.output : dir);
  out["conv_template"] = conv.to_json();
  out["pad_token_id"] = pick("pad_token_id", 0);
  out["bos_token_id"] = pick("bos_token_id", 1);
  out["eos_token_id"] = pick("eos_token_id", 2);
  out["model_task"] = model.model_task;
  if (model.model_task == "embedding") {
    // How `embed` and /v1/embeddings pool: sentence-transformers' modules when the folder has
    // them, else the [CLS] row, unnormalized.
    const std::optional<EmbeddingSettings> st =
        dir.empty() ? std::nullopt : sentence_transformers_settings(dir);
    out["embedding"] = st.value_or(EmbeddingSettings{}).to_json();
    log_info("Embedding pooling: {}{}", out["embedding"].dump(),
             st ? " (from the sentence-transformers config)" : "");
  }
  write_file_atomic(o.output / "mlc-chat-config.json", out.dump(2));
  log_info("Dumping configuration file to: {}", (o.output / "mlc-chat-config.json").string());
  return out;
}

}  // namespace llmcc
