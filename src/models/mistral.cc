#include "models/mistral.h"

#include "models/decoder_builder.h"

namespace llmcc {

std::unique_ptr<LlamaConfig> mistral_config_from_dict(const Json& dict,
                                                      const std::string& context) {
  Json d = dict;
  if (d.contains("sliding_window")) {
    if (!d["sliding_window"].is_null() && !d.contains("sliding_window_size"))
      d["sliding_window_size"] = d["sliding_window"];
    d.erase("sliding_window");
  }
  return LlamaConfig::from_dict(d, context);
}

ir::Module build_mistral(const LlamaConfig& config, const Quantization& quantization) {
  // The window itself is a config field (sliding_window_size), which the decoder reads.
  return build_decoder(config, quantization, {.model_type = "mistral"});
}

}  // namespace llmcc
