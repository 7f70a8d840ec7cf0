// include/llmcc/runtime.h over the serving engine, on the caller's thread.
#include "llmcc/runtime.h"
#include "runtime/engine.h"

namespace llmcc {

Model::Model(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& model_lib, const std::string& model_dir,
                                   bool verify_md5) {
  EngineOptions options;
  options.verify_md5 = verify_md5;
  options.background_thread = false;  // an embedding application owns its threads
  return std::unique_ptr<Model>(new Model(std::make_unique<Engine>(model_dir, model_lib, options)));
}

int64_t Model::vocab_size() const { return engine_->vocab_size(); }
int64_t Model::context_window_size() const { return engine_->context_window_size(); }

std::vector<int32_t> Model::generate(const std::vector<int32_t>& prompt,
                                     const GenerateOptions& options, const OnToken& on_token) {
  GenerationConfig config;
  config.max_tokens = options.max_tokens;
  config.sampling.temperature = options.temperature;
  config.sampling.top_p = options.top_p;
  config.sampling.seed = options.seed;
  config.stop_token_ids = options.stop_token_ids;
  Engine::StepCallback step = nullptr;
  if (on_token)
    step = [&](int64_t, const std::vector<float>& logits, int32_t token) {
      return on_token(token, logits);
    };
  return engine_->generate(prompt, config, step).tokens;
}

std::vector<float> Model::next_token_logits(const std::vector<int32_t>& tokens) {
  // One step of generation: batch_prefill computes the logits of the last row only, where
  // scoring (batch_verify) would compute, and hold, a chunk's worth.
  GenerationConfig config;
  config.max_tokens = 1;
  config.sampling.temperature = 0;
  std::vector<float> logits;
  engine_->generate(tokens, config, [&](int64_t, const std::vector<float>& row, int32_t) {
    logits = row;
    return true;
  });
  return logits;
}

}  // namespace llmcc
