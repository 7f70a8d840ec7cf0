// llmcc convert_weight: MLC's `mlc_llm convert_weight` command line.
#include <memory>

#include "convert/convert_weight.h"
#include "convert/gguf_import.h"
#include "support/error.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string config;
  std::string quantization;
  std::string model_type = "auto";
  std::string device = "auto";
  std::string source;
  std::string source_format = "auto";
  std::string output;
};

}  // namespace

Action add_convert_weight_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("config", o->config,
                 "HF config.json or the folder holding it and the weights, or a .gguf file")
      ->required();
  app.add_option("--quantization", o->quantization, "Quantization scheme, e.g. q0f32, q0f16")
      ->required();
  app.add_option("--model-type", o->model_type, "Model architecture, or auto")
      ->capture_default_str();
  app.add_option("--device", o->device, "Where to convert: auto or cpu")->capture_default_str();
  app.add_option("--source", o->source,
                 "Weights: a .safetensors file, its index .json, or a folder (default: the "
                 "config's folder)");
  app.add_option("--source-format", o->source_format, "auto, huggingface-safetensor or gguf")
      ->capture_default_str();
  app.add_option("--output,-o", o->output,
                 "Output folder for tensor-cache.json and params_shard_*.bin")
      ->required();
  return [o] {
    if (o->device != "auto" && o->device != "cpu")
      throw NotImplementedError("convert_weight runs on the CPU; --device " + o->device +
                                " is not implemented");
    const Quantization& q = Quantization::from_name(o->quantization);
    // A GGUF file carries its own config and tokenizer: the output becomes a complete model
    // folder (weights, config.json, tokenizer.json, mlc-chat-config.json).
    const bool gguf = is_gguf_path(o->config) || o->source_format == "gguf";
    ConfigSource source;
    if (gguf) {
      const std::filesystem::path file = is_gguf_path(o->config) ? o->config : o->source;
      source = {gguf_hf_config(GgufFile(file)), file.string(), file};
    } else {
      source = load_config_source(o->config);
    }
    const Model& model = Model::from_name(detect_model_type(o->model_type, source));
    convert_weight(source, q, model, {o->source, o->source_format, o->output});
    if (gguf) write_gguf_model_files(*source.file, o->output, q.name);
    return 0;
  };
}

}  // namespace llmcc::cli
