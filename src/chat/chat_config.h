// mlc-chat-config.json as the runtime reads it: the conversation template, the sampling defaults
// and the end-of-sequence token ids. chat, generate (and serve) start from this.
#pragma once

#include <filesystem>
#include <vector>

#include "chat/conversation.h"
#include "runtime/sampler.h"
#include "support/json.h"

namespace llmcc {

struct ChatConfig {
  Conversation conversation;
  SamplingParams sampling;
  std::vector<int32_t> eos_token_ids;

  // MODEL_DIR/mlc-chat-config.json; UserError naming the file and field when it is missing or a
  // field has the wrong type or range.
  static ChatConfig load(const std::filesystem::path& model_dir);
  // `where` names the source in errors.
  static ChatConfig from_json(const Json& config, const std::string& where);
};

// MLC's sampling fields (temperature, top_p, the three penalties) with MLC's defaults when absent,
// plus llmcc's top_k and min_p (0, off, when absent).
SamplingParams sampling_from_chat_config(const Json& config, const std::string& where);

}  // namespace llmcc
