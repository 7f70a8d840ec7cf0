// llmcc eval_ppl: perplexity of a compiled model on a text file, and its KL divergence and top-1
// agreement against a base model (for example q0f32) on the same tokens.
#include <cstdio>
#include <memory>

#include "runtime/quality.h"
#include "support/error.h"
#include "support/files.h"
#include "tokenizer/tokenizer.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/model_lib_resolver.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir, model_lib, base_dir, base_lib, text;
  int64_t window = 128;
  int64_t max_tokens = 0;
  bool json = false;
};

// The text's tokens: through the model folder's tokenizer, or, for a folder without one (the
// committed random test models, vocabulary 256), one token per UTF-8 byte.
std::vector<int32_t> text_tokens(const std::string& text, const std::filesystem::path& dir,
                                 int64_t vocab, int64_t max_tokens) {
  std::vector<int32_t> ids;
  if (std::filesystem::exists(dir / "tokenizer.json") ||
      std::filesystem::exists(dir / "tokenizer.model")) {
    ids = Tokenizer::from_dir(dir)->encode(text);
  } else {
    if (vocab < 256)
      user_error("'{}' has no tokenizer, and byte tokens need a vocabulary of 256", dir.string());
    for (unsigned char c : text) ids.push_back(c);
  }
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(max_tokens);
  return ids;
}

int run(const Options& o) {
  if (o.base_dir.empty() && !o.base_lib.empty())
    user_error("--base-model-lib needs --base-model-dir");
  std::string text = read_file(o.text);
  Engine model(o.model_dir, resolve_model_lib(o.model_dir, o.model_lib, "auto", ""));
  std::unique_ptr<Engine> base;
  if (!o.base_dir.empty())
    base =
        std::make_unique<Engine>(o.base_dir, resolve_model_lib(o.base_dir, o.base_lib, "auto", ""));
  auto tokens = text_tokens(text, o.model_dir, model.vocab_size(), o.max_tokens);
  QualityReport r = evaluate_quality(model, base.get(), tokens, o.window);
  if (o.json) {
    std::printf("{\"predictions\": %lld, \"ppl\": %.6g", static_cast<long long>(r.predictions),
                r.ppl);
    if (r.has_base)
      std::printf(
          ", \"base_ppl\": %.6g, \"ppl_ratio\": %.6g, \"kld\": %.6g, \"top1_agreement\": %.6g",
          r.base_ppl, r.ppl / r.base_ppl, r.kld, r.top1);
    std::printf("}\n");
    return 0;
  }
  std::printf("predictions: %lld\nperplexity: %.4f\n", static_cast<long long>(r.predictions),
              r.ppl);
  if (r.has_base)
    std::printf(
        "base perplexity: %.4f\nperplexity ratio: %.5f\nmean KL divergence: %.6f nats\n"
        "top-1 agreement: %.2f%%\n",
        r.base_ppl, r.ppl / r.base_ppl, r.kld, 100 * r.top1);
  return 0;
}

}  // namespace

Action add_eval_ppl_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir, "Folder of converted weights")->required();
  app.add_option("--model-lib", o->model_lib,
                 "Compiled model library; compiled on demand when absent");
  app.add_option("--text", o->text,
                 "Text file to score, tokenized with the model folder's tokenizer (or as bytes)")
      ->required();
  app.add_option("--base-model-dir", o->base_dir, "Weights of the reference model, e.g. its q0f32");
  app.add_option("--base-model-lib", o->base_lib, "Library of the reference model");
  app.add_option("--window", o->window, "Tokens per independently scored window")
      ->capture_default_str();
  app.add_option("--max-tokens", o->max_tokens, "Score at most this many tokens (0 = all)")
      ->capture_default_str();
  app.add_flag("--json", o->json, "Print one JSON object");
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
