// llmcc embed: sentence embeddings from an encoder model (BERT; kv_state_kind "none"), pooled as
// its sentence-transformers config says (mlc-chat-config.json's "embedding") unless the flags
// say otherwise. Prints one JSON array per input, or writes a float32 .npy.
#include <cstdio>
#include <memory>

#include "chat/embedder.h"
#include "support/error.h"
#include "support/npy.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/model_lib_resolver.h"
#include "tools/llmcc/token_ids.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir;
  ModelLibOptions lib;
  std::vector<std::string> texts;
  std::string input_ids;
  std::string pooling;  // empty: the model's
  bool normalize = false, no_normalize = false;
  std::string out;
  bool no_verify = false;
};

int run(const Options& o) {
  if (o.texts.empty() == o.input_ids.empty())
    user_error("give --text (one or more) or --input-ids, not both");
  if (o.normalize && o.no_normalize) user_error("--normalize and --no-normalize contradict");
  const std::filesystem::path dir = o.model_dir;
  Embedder embedder(dir, resolve_model_lib(dir, o.lib), !o.no_verify);
  const Pooling pooling =
      o.pooling.empty() ? embedder.settings().pooling : pooling_from_name(o.pooling, "--pooling");
  // The model's normalization is of pooled vectors; per-token rows stay as the model gives them.
  const bool normalize = o.normalize || (!o.no_normalize && embedder.settings().normalize &&
                                         pooling != Pooling::kNone);
  std::vector<std::vector<int32_t>> sequences;
  if (!o.input_ids.empty()) {
    sequences.push_back(parse_token_ids(o.input_ids, "--input-ids"));
    if (sequences[0].empty()) user_error("--input-ids is empty; give comma-separated token ids");
  } else {
    for (const auto& t : o.texts) sequences.push_back(embedder.tokenize(t));
  }
  if (pooling == Pooling::kNone && sequences.size() > 1)
    user_error("--pooling none gives one [tokens, hidden] array per input; give one input");
  const std::vector<Embedding> embeddings = embedder.embed(sequences, pooling, normalize);
  const int64_t H = embedder.hidden_size();
  std::fprintf(stderr, "%zu input(s), %s pooling%s, hidden %lld\n", embeddings.size(),
               pooling_name(pooling), normalize ? ", normalized" : "", static_cast<long long>(H));
  if (!o.out.empty()) {
    // Pooled: [inputs, hidden] ([hidden] rows); unpooled: [tokens, hidden] of the one input.
    std::vector<std::vector<float>> rows;
    for (const auto& e : embeddings)
      for (size_t r = 0; r < e.values.size(); r += H)
        rows.emplace_back(e.values.begin() + r, e.values.begin() + r + H);
    write_npy_f32(o.out, rows);
    std::fprintf(stderr, "wrote float32 [%zu, %lld] to %s\n", rows.size(),
                 static_cast<long long>(H), o.out.c_str());
    return 0;
  }
  for (const auto& e : embeddings) {
    std::string line = "[";
    for (size_t i = 0; i < e.values.size(); ++i)
      line += fmt::format("{}{:.7g}", i ? ", " : "", e.values[i]);
    std::printf("%s]\n", line.c_str());
  }
  return 0;
}

}  // namespace

Action add_embed_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir,
                 "Folder of converted weights (tensor-cache.json), the tokenizer and "
                 "mlc-chat-config.json")
      ->required();
  add_model_lib_options(app, o->lib);
  app.add_option("--text", o->texts, "Text to embed; repeat for several, embedded in batches");
  app.add_option("--input-ids", o->input_ids,
                 "Comma-separated token ids to embed as they are (special tokens included)");
  app.add_option("--pooling", o->pooling,
                 "cls, mean, or none (every token's last hidden state); default: the model's "
                 "sentence-transformers pooling, else cls");
  app.add_flag("--normalize", o->normalize, "L2-normalize each embedding");
  app.add_flag("--no-normalize", o->no_normalize,
               "Do not normalize, even where the model's config does");
  app.add_option("--out", o->out,
                 "Write float32 .npy: [inputs, hidden] pooled, [tokens, hidden] with --pooling "
                 "none");
  app.add_flag("--no-verify-md5", o->no_verify, "Skip the md5 check of the weight shards");
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
