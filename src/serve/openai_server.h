// `llmcc serve`'s HTTP front: OpenAI's routes over the engine, on cpp-httplib. It listens before
// the model has loaded (GET /health answers 503 until then), checks the API key on every route
// in constant time, limits body size, queued requests and socket timeouts, answers every error
// in OpenAI's body, streams with server-sent events, and cancels a stream whose client left.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/chat_config.h"
#include "chat/embedder.h"
#include "runtime/engine.h"
#include "serve/server_metrics.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace llmcc::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;      // 0: any free port (see port())
  std::string api_key;  // empty: no key needed
  std::string model_id = "llmcc";
  size_t max_body_bytes = 4 << 20;
  int64_t max_queued_requests = 64;  // generation requests in flight; past it, 429
  int read_timeout_seconds = 30, write_timeout_seconds = 60;
  std::vector<std::string> allowed_origins;  // CORS; empty: no CORS headers
};

class EmbeddingBatcher;

// What the routes serve once loaded; the server does not own them. A decoder has an engine; an
// encoder (an embedding model) has the embedder and its batcher instead.
struct ServedModel {
  Engine* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;
  const ChatConfig* chat = nullptr;  // null: no conversation template (completions only)
  const Embedder* embedder = nullptr;
  EmbeddingBatcher* embeddings = nullptr;
};

class OpenAIServer {
 public:
  explicit OpenAIServer(ServerOptions options);
  ~OpenAIServer();

  // Binds the socket (UserError when it cannot) and starts answering on a thread of its own.
  void start();
  // From here on generation routes are served; before, they answer 503.
  void set_model(const ServedModel& model);
  void stop();
  int port() const { return port_; }

 private:
  void install_routes();
  bool authorized(const httplib::Request& req) const;
  void handle_generation(const httplib::Request& req, httplib::Response& res, bool chat);
  // Counts a request in flight, or throws the 429 past --max-queued-requests; the caller
  // decrements in_flight_ when the request ends.
  void reserve_request_slot();
  // A 404 unless `model` is empty or the served model's id.
  void check_model_name(const std::string& model) const;
  void handle_embeddings(const httplib::Request& req, httplib::Response& res);
  // An ApiError when the served folder has no tokenizer (an encoder fed token ids only).
  void require_tokenizer() const;
  void handle_tokenize(const httplib::Request& req, httplib::Response& res);
  void handle_detokenize(const httplib::Request& req, httplib::Response& res);
  void handle_metrics(httplib::Response& res);
  void add_cors(const httplib::Request& req, httplib::Response& res) const;

  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> loaded_{false};
  ServedModel model_;
  ServerMetrics metrics_;
  std::atomic<int64_t> in_flight_{0};
  int port_ = 0;
  int listen_fd_ = -1;  // the socket httplib bound, seen through its socket-options hook
  std::unique_ptr<std::thread> thread_;
};

}  // namespace llmcc::serve
