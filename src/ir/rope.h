// Rotary position embedding as the attention op's "rope" attribute, and the frequency tables it
// denotes. The attribute is fully resolved when the model is built (every default that Hugging
// Face derives from the config is written out), so the IR alone says what the kernel computes:
//
//   "rope": {"mode": "rotate_half" | "interleaved" | "none",
//            "rotary_dim": R,      // the first R dims of each head rotate (partial rotary), R even
//            "theta": base,
//            "scaling": null | {"rope_type": "linear", "factor"}
//                            | {"rope_type": "llama3", "factor", "low_freq_factor",
//                               "high_freq_factor", "original_max_position_embeddings"}
//                            | {"rope_type": "yarn", "factor", "original_max_position_embeddings",
//                               "beta_fast", "beta_slow", "attention_factor", "truncate"}
//                            | {"rope_type": "longrope", "short_factor": [R/2],
//                               "long_factor": [R/2], "original_max_position_embeddings",
//                               "attention_factor"}}
//
// rotate_half pairs dim i with i + R/2 (Llama, NeoX); interleaved pairs 2i with 2i+1 (GPT-J).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/json.h"

namespace llmcc::ir {

// The attribute for a head of `head_dim` rotating `rotary_dim` dims; `scaling` as above.
Json make_rope_attr(const std::string& mode, int64_t rotary_dim, double theta, const Json& scaling);

// Throws UserError naming `op` and the broken field.
void verify_rope_attr(const std::string& op, const Json& rope, int64_t head_dim);

// What the kernel reads: inverse frequencies per rotated pair (f32, computed the way
// transformers computes them), a second set used by a sequence whose length in the current
// forward exceeds `long_after` (longrope; -1: never), and the factor on cos and sin.
struct RopeTables {
  std::string mode;
  int64_t rotary_dim = 0;
  std::vector<float> inv_freq, long_inv_freq;
  int64_t long_after = -1;
  float attention_factor = 1.0f;
};

RopeTables rope_tables(const Json& rope);

}  // namespace llmcc::ir
