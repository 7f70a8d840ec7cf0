#include "chat/chat_config.h"

#include "support/error.h"

namespace llmcc {

namespace {

double number_or(const Json& config, const char* key, double fallback, const std::string& where) {
  if (!config.contains(key) || config[key].is_null()) return fallback;
  if (!config[key].is_number()) user_error("{}: '{}' must be a number", where, key);
  return config[key].get<double>();
}

}  // namespace

SamplingParams sampling_from_chat_config(const Json& config, const std::string& where) {
  SamplingParams p;
  p.temperature = number_or(config, "temperature", 1.0, where);
  p.top_p = number_or(config, "top_p", 1.0, where);
  p.repetition_penalty = number_or(config, "repetition_penalty", 1.0, where);
  p.presence_penalty = number_or(config, "presence_penalty", 0.0, where);
  p.frequency_penalty = number_or(config, "frequency_penalty", 0.0, where);
  const double top_k = number_or(config, "top_k", 0.0, where);
  if (top_k != static_cast<double>(static_cast<int64_t>(top_k)))
    user_error("{}: 'top_k' must be a whole number, got {}", where, top_k);
  p.top_k = static_cast<int64_t>(top_k);
  p.min_p = number_or(config, "min_p", 0.0, where);
  try {
    validate_sampling(p);
  } catch (const UserError& e) {
    user_error("{}: {}", where, e.what());
  }
  return p;
}

ChatConfig ChatConfig::from_json(const Json& config, const std::string& where) {
  if (!config.is_object()) user_error("{}: expected a JSON object", where);
  if (!config.contains("conv_template"))
    user_error("{}: no 'conv_template'; create the file with `llmcc gen_config`", where);
  ChatConfig c;
  try {
    c.conversation = Conversation::from_json(config["conv_template"]);
  } catch (const UserError& e) {
    user_error("{}: {}", where, e.what());
  }
  c.sampling = sampling_from_chat_config(config, where);
  // HF allows one id or a list (Llama 3.1 ends on any of three).
  if (config.contains("eos_token_id") && !config["eos_token_id"].is_null()) {
    const Json& eos = config["eos_token_id"];
    for (const Json& id : eos.is_array() ? eos : Json::array({eos})) {
      if (!id.is_number_integer())
        user_error("{}: 'eos_token_id' must be a token id or a list of them", where);
      c.eos_token_ids.push_back(id.get<int32_t>());
    }
  }
  return c;
}

ChatConfig ChatConfig::load(const std::filesystem::path& model_dir) {
  const auto file = model_dir / "mlc-chat-config.json";
  if (!std::filesystem::exists(file))
    user_error("'{}' has no mlc-chat-config.json; create it with `llmcc gen_config`",
               model_dir.string());
  return from_json(read_json_file(file), file.string());
}

}  // namespace llmcc
