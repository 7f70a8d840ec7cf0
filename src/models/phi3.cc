#include "models/phi3.h"

#include "models/decoder_builder.h"
#include "models/mistral.h"

namespace llmcc {

std::unique_ptr<LlamaConfig> phi3_config_from_dict(const Json& dict, const std::string& context) {
  // Phi-3's config reads a scaling of type "su" or "yarn" as longrope (transformers'
  // Phi3Config does the same), whether it sits in rope_scaling or transformers 5's
  // rope_parameters.
  Json d = dict;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    if (!d.contains(key) || !d[key].is_object()) continue;
    Json& s = d[key];
    const char* type_key = s.contains("rope_type") ? "rope_type" : "type";
    if (s.contains(type_key) && (s[type_key] == "su" || s[type_key] == "yarn"))
      s[type_key] = "longrope";
  }
  return mistral_config_from_dict(d, context);  // the same sliding_window reading
}

ir::Module build_phi3(const LlamaConfig& config, const Quantization& quantization) {
  return build_decoder(config, quantization, {.model_type = "phi3"});
}

std::vector<std::string> phi3_hf_sources(const std::string& mlc_param) { return {mlc_param}; }

}  // namespace llmcc
