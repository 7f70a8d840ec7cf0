// llmcc serve: an OpenAI-compatible HTTP server over the serving engine (or, for an embedding
// model, /v1/embeddings over its encoder). It listens at once
// (GET /health is 503 until the model is ready), compiles the library on demand when
// --model-lib is absent, and stops cleanly on SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "chat/chat_config.h"
#include "chat/embedder.h"
#include "runtime/engine.h"
#include "runtime/model_library.h"
#include "serve/embedding_batcher.h"
#include "serve/openai_server.h"
#include "support/error.h"
#include "tokenizer/tokenizer.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/model_lib_resolver.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir;
  ModelLibOptions lib;
  serve::ServerOptions server;
  std::string mode = "server";
  int64_t max_num_sequence = 0, max_total_seq_length = 0, prefill_chunk_size = 0;
  double kv_cache_memory_gib = 0;
  bool no_verify = false;
};

// Blocks until SIGINT or SIGTERM, then stops the server.
int wait_and_stop(serve::OpenAIServer& server, sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  std::fprintf(stderr, "llmcc serve: stopping (signal %d)\n", signal);
  server.stop();
  return 0;
}

// An encoder (kv_state_kind "none"): /v1/embeddings over the embedder, batched across requests.
int serve_embeddings(const Options& o, serve::OpenAIServer& server,
                     const std::filesystem::path& dir, const std::string& lib, sigset_t& signals) {
  Embedder embedder(dir, lib, !o.no_verify);
  serve::EmbeddingBatcher batcher(embedder);
  server.set_model({.tokenizer = embedder.has_tokenizer() ? &embedder.tokenizer() : nullptr,
                    .embedder = &embedder,
                    .embeddings = &batcher});
  std::fprintf(stderr,
               "llmcc serve: ready, embedding model '%s': %s pooling%s, up to %lld tokens, %lld "
               "sequences per call\n",
               o.server.model_id.c_str(), pooling_name(embedder.settings().pooling),
               embedder.settings().normalize ? ", normalized" : "",
               static_cast<long long>(embedder.settings().max_seq_length),
               static_cast<long long>(embedder.max_batch_size()));
  const int status = wait_and_stop(server, signals);
  std::fprintf(stderr, "llmcc serve: %lld embedding requests in %lld batched calls\n",
               static_cast<long long>(batcher.requests()), static_cast<long long>(batcher.calls()));
  return status;
}

int run(Options o) {
  if (o.server.api_key.empty())
    if (const char* key = std::getenv("LLMCC_API_KEY")) o.server.api_key = key;
  if (o.server.model_id.empty())
    o.server.model_id = std::filesystem::path(o.model_dir).filename().string();
  const EngineMode mode = engine_mode_from_name(o.mode);
  // Signals go to sigwait below, not to whichever thread happens to run.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that left must not end the server

  serve::OpenAIServer server(o.server);
  server.start();
  std::fprintf(stderr, "llmcc serve: listening on http://%s:%d (loading %s)\n",
               o.server.host.c_str(), server.port(), o.model_dir.c_str());
  const std::filesystem::path dir = o.model_dir;
  const std::string lib = resolve_model_lib(dir, o.lib);
  if (ModelLibrary(lib).metadata().value("kv_state_kind", "") == "none")
    return serve_embeddings(o, server, dir, lib, signals);
  auto tokenizer = Tokenizer::from_dir(dir);
  std::optional<ChatConfig> chat;
  if (std::filesystem::exists(dir / "mlc-chat-config.json")) chat = ChatConfig::load(dir);
  Engine engine(dir, lib,
                EngineOptions{.verify_md5 = !o.no_verify,
                              .mode = mode,
                              .max_num_sequence = o.max_num_sequence,
                              .max_total_sequence_length = o.max_total_seq_length,
                              .prefill_chunk_size = o.prefill_chunk_size,
                              .kv_cache_memory_gib = o.kv_cache_memory_gib});
  server.set_model({&engine, tokenizer.get(), chat ? &*chat : nullptr});
  const EngineSizing& s = engine.sizing();
  std::fprintf(stderr,
               "llmcc serve: ready, model '%s', mode %s: %lld sequences, %lld KV tokens, "
               "%lld-token steps\n",
               o.server.model_id.c_str(), engine_mode_name(mode),
               static_cast<long long>(s.max_num_sequence),
               static_cast<long long>(s.max_total_sequence_length),
               static_cast<long long>(s.prefill_chunk_size));
  return wait_and_stop(server, signals);
}

}  // namespace

Action add_serve_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir,
                 "Folder of converted weights, tokenizer and mlc-chat-config.json")
      ->required();
  add_model_lib_options(app, o->lib);
  app.add_option("--host", o->server.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", o->server.port, "Port to listen on; 0 picks a free one")
      ->capture_default_str();
  app.add_option("--api-key", o->server.api_key,
                 "Key every request must send as 'Authorization: Bearer KEY' (also from "
                 "LLMCC_API_KEY); none by default");
  app.add_option("--model-name", o->server.model_id,
                 "The model id clients name (default: the folder's name)");
  app.add_option("--mode", o->mode, "MLC's engine mode: local, interactive or server")
      ->capture_default_str();
  app.add_option("--max-num-sequence", o->max_num_sequence,
                 "Sequences run at once; 0: from the mode and the library");
  app.add_option("--max-total-seq-length", o->max_total_seq_length,
                 "Tokens the KV cache holds in all; 0: from the mode");
  app.add_option("--prefill-chunk-size", o->prefill_chunk_size,
                 "Token budget of one engine step; 0: the library's");
  app.add_option("--kv-cache-memory-gib", o->kv_cache_memory_gib,
                 "Server mode's KV cache budget; 0: a quarter of the RAM");
  app.add_option("--max-body-bytes", o->server.max_body_bytes,
                 "Largest request body; larger ones get 413")
      ->capture_default_str();
  app.add_option("--max-queued-requests", o->server.max_queued_requests,
                 "Generation requests in flight at once; past it, 429")
      ->capture_default_str();
  app.add_option("--timeout", o->server.read_timeout_seconds,
                 "Seconds to wait for a client's request before closing its connection")
      ->capture_default_str();
  app.add_option("--allow-origin", o->server.allowed_origins,
                 "Origins allowed by CORS (repeatable, or *); CORS is off without it");
  app.add_flag("--no-verify-md5", o->no_verify, "Skip the md5 check of the weight shards");
  o->server.model_id.clear();
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
