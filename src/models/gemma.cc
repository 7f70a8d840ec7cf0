#include "models/gemma.h"

#include <cmath>

#include "models/decoder_builder.h"
#include "models/gemma_config.h"
#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

ir::Module build_gemma(const LlamaConfig& config, const Quantization& quantization) {
  const auto* g = dynamic_cast<const GemmaConfig*>(&config);
  if (!g) internal_error("build_gemma needs a GemmaConfig, got {}", config.class_name());
  const std::string type = g->version == 1 ? "gemma" : "gemma" + std::to_string(g->version);
  DecoderSpec spec{.model_type = type,
                   .qk_norm = g->version == 3,
                   .gemma_norms = true,
                   .sandwich_norms = g->version >= 2,
                   .embed_scale = std::sqrt(static_cast<double>(g->hidden_size)),
                   .activation = g->hidden_activation == "gelu" ? "gelu" : "gelu_tanh",
                   .sm_scale = 1.0 / std::sqrt(g->query_pre_attn_scalar),
                   .attn_logit_softcap = g->attn_logit_softcapping,
                   .final_logit_softcap = g->final_logit_softcapping};
  spec.layer = [g](int64_t i) {
    if (!g->is_sliding(i)) return LayerAttention{0, g->position_embedding_base, g->rope_scaling};
    // Gemma 3's sliding layers rotate with their own base and no scaling.
    const double theta =
        g->rope_local_base_freq > 0 ? g->rope_local_base_freq : g->position_embedding_base;
    return LayerAttention{g->sliding_window, theta,
                          g->rope_local_base_freq > 0 ? Json() : g->rope_scaling};
  };
  return build_decoder(config, quantization, spec);
}

double gemma_hf_offset(const std::string& mlc_param) {
  return ends_with(mlc_param, "norm.weight") ? 1.0 : 0.0;
}

}  // namespace llmcc
