// llmcc: compile language models into libraries, and run them.
#include <cstdio>
#include <map>

#include "support/error.h"
#include "support/version.h"
#include "tools/llmcc/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"llmcc: an ahead-of-time compiler and runtime for large language models"};
  app.set_version_flag("--version", llmcc::kCompilerVersion);
  app.require_subcommand(1);
  std::map<CLI::App*, llmcc::cli::Action> actions;
  auto add = [&](const char* name, const char* help, auto register_fn) {
    CLI::App* sub = app.add_subcommand(name, help);
    actions[sub] = register_fn(*sub);
  };
  add("compile", "Compile a model config into a model library (.so or .tar)",
      llmcc::cli::add_compile_command);
  add("gen_config", "Write mlc-chat-config.json and copy the tokenizer for a model",
      llmcc::cli::add_gen_config_command);
  add("convert_weight", "Convert Hugging Face weights into MLC's tensor-cache layout",
      llmcc::cli::add_convert_weight_command);
  add("generate", "Generate tokens from a prompt with a compiled model and converted weights",
      llmcc::cli::add_generate_command);
  add("embed", "Sentence embeddings from an encoder model (BERT)", llmcc::cli::add_embed_command);
  add("chat", "Chat with a model interactively (reads stdin)", llmcc::cli::add_chat_command);
  add("serve", "Serve OpenAI's chat, completions and embeddings API over HTTP",
      llmcc::cli::add_serve_command);
  add("eval_ppl", "Perplexity, and KL divergence and top-1 agreement against a base model",
      llmcc::cli::add_eval_ppl_command);
  add("bench", "Prefill and decode speed, against the memory-bandwidth roofline",
      llmcc::cli::add_bench_command);
  add("cache", "List or clear the libraries compiled on demand", llmcc::cli::add_cache_command);
  add("model_metadata", "Print the metadata of a compiled model library",
      llmcc::cli::add_model_metadata_command);
  CLI11_PARSE(app, argc, argv);
  try {
    for (auto* sub : app.get_subcommands()) return actions.at(sub)();
  } catch (const llmcc::UserError& e) {  // includes NotImplementedError
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {  // InternalError and anything unexpected
    std::fprintf(stderr, "internal error (an llmcc bug, please report it): %s\n", e.what());
    return 3;
  }
  return 0;
}
