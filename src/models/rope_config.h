// Reads a checkpoint's RoPE settings (config.json's rope_scaling, or transformers 5's
// rope_parameters) into the resolved scaling object that ir/rope.h describes, deriving every
// default the way transformers does, so the library computes what the checkpoint was trained
// with. Reading a resolved object again gives the same object (mlc-chat-config.json round trips).
#pragma once

#include <string>

#include "support/json.h"

namespace llmcc {

// `raw`: the scaling object as found (null when there is none). `config`: the whole config, for
// max_position_embeddings and Phi-3's top-level original_max_position_embeddings. Returns null for
// plain RoPE. Throws UserError for a malformed field, NotImplementedError for a type llmcc does
// not build (dynamic NTK).
Json resolve_rope_scaling(const Json& raw, const Json& config, const std::string& context);

}  // namespace llmcc
