// llmcc gen_config: MLC's `mlc_llm gen_config` command line.
#include <memory>
#include <optional>

#include "chat/conversation.h"
#include "convert/gen_config.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

Action add_gen_config_command(CLI::App& app) {
  struct Options {
    GenConfigOptions gen;
    std::string output;
    std::optional<int64_t> cws, sws, pcs, sink, tp, pp, mbs;
  };
  auto o = std::make_shared<Options>();
  app.add_option("config", o->gen.config, "HF model folder, its config.json, or a preset")
      ->required();
  app.add_option("--quantization", o->gen.quantization, "Quantization scheme, e.g. q4f16_1")
      ->required();
  app.add_option("--model-type", o->gen.model_type, "Model architecture, or auto")
      ->capture_default_str();
  std::string names;
  for (const auto& n : Conversation::template_names()) names += (names.empty() ? "" : ", ") + n;
  app.add_option("--conv-template", o->gen.conv_template,
                 "Conversation template: " + names +
                     "; default: the family's (qwen2, qwen3 -> chatml, mistral -> mistral_default, "
                     "phi3 -> phi-3, gemma and gemma2 -> gemma_instruction, gemma3 -> "
                     "gemma3_instruction; llama must be given)");
  app.add_option("--context-window-size", o->cws, "Override context_window_size");
  app.add_option("--sliding-window-size", o->sws, "Override sliding_window_size");
  app.add_option("--prefill-chunk-size", o->pcs, "Override prefill_chunk_size");
  app.add_option("--attention-sink-size", o->sink, "Override attention_sink_size");
  app.add_option("--tensor-parallel-shards", o->tp, "Override tensor_parallel_shards");
  app.add_option("--pipeline-parallel-stages", o->pp, "Override pipeline_parallel_stages");
  app.add_option("--max-batch-size", o->mbs, "Override max_batch_size (default 128, as MLC)");
  app.add_option("--output,-o", o->output, "Output folder (created)")->required();
  return [o] {
    ModelConfigOverride& ov = o->gen.overrides;
    ov.context_window_size = o->cws;
    ov.sliding_window_size = o->sws;
    ov.prefill_chunk_size = o->pcs;
    ov.attention_sink_size = o->sink;
    ov.tensor_parallel_shards = o->tp;
    ov.pipeline_parallel_stages = o->pp;
    ov.max_batch_size = o->mbs;
    o->gen.output = o->output;
    gen_config(o->gen);
    return 0;
  };
}

}  // namespace llmcc::cli
