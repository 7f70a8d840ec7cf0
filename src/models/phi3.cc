#include "models/phi3.h"

#include "models/decoder_builder.h"
#include "models/mistral.h"
#include "support/error.h"

namespace llmcc {

std::unique_ptr<LlamaConfig> phi3_config_from_dict(const Json& dict, const std::string& context) {
  // transformers >= 5 nests the rope settings in rope_parameters; older files keep them on top.
  const Json rope = dict.contains("rope_parameters") && dict["rope_parameters"].is_object()
                        ? dict["rope_parameters"]
                        : dict;
  const Json scaling = dict.contains("rope_scaling") && dict["rope_scaling"].is_object()
                           ? dict["rope_scaling"]
                           : rope;
  const std::string type = scaling.value("rope_type", scaling.value("type", std::string()));
  if (type == "longrope" || type == "su")
    throw NotImplementedError(fmt::format(
        "{}: Phi-3's longrope scaling (the 128k models) is not built by llmcc yet", context));
  if (rope.value("partial_rotary_factor", 1.0) != 1.0 ||
      dict.value("partial_rotary_factor", 1.0) != 1.0)
    throw NotImplementedError(
        fmt::format("{}: a partial_rotary_factor other than 1 is not built by llmcc yet", context));
  return mistral_config_from_dict(dict, context);  // the same sliding_window reading
}

ir::Module build_phi3(const LlamaConfig& config, const Quantization& quantization) {
  return build_decoder(config, quantization, {.model_type = "phi3"});
}

std::vector<std::string> phi3_hf_sources(const std::string& mlc_param) { return {mlc_param}; }

}  // namespace llmcc
