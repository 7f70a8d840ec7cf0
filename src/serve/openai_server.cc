#include "serve/openai_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "serve/api_error.h"
#include "serve/chat_page.h"
#include "serve/completion_job.h"
#include "serve/embedding_batcher.h"
#include "serve/embedding_request.h"
#include "serve/openai_request.h"
#include "serve/openai_response.h"
#include "serve/worker_pool.h"
#include "support/error.h"

namespace llmcc::serve {

namespace {

void send_json(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status(), e.body()); }

// A key check whose time does not depend on where the strings first differ.
bool equal_constant_time(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Json parse_body(const httplib::Request& req) {
  try {
    return Json::parse(req.body);
  } catch (const Json::parse_error& e) {
    throw ApiError(400, fmt::format("the body is not valid JSON: {}", e.what()));
  }
}

// Runs a route, turning its errors into OpenAI's bodies: ApiError as it is, UserError (a request
// the engine refused) as 400, anything else as 500.
template <typename F>
void guarded(httplib::Response& res, F&& route) {
  try {
    route();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const UserError& e) {
    send_error(res, ApiError(400, e.what()));
  } catch (const std::exception& e) {
    send_error(res, ApiError(500, fmt::format("internal error: {}", e.what()), "", "server_error"));
  }
}

const char* status_message(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "missing or incorrect API key";
    case 404:
      return "no such route";
    case 405:
      return "method not allowed";
    case 413:
      return "the request body is too large";
    case 414:
      return "the request URI is too long";
    case 431:
      return "the request headers are too large";
    default:
      return "request failed";
  }
}

// httplib's queue interface over the warm-first pool.
class WorkerPoolQueue : public httplib::TaskQueue {
 public:
  explicit WorkerPoolQueue(size_t threads) : pool_(threads) {}
  void enqueue(std::function<void()> fn) override { pool_.run(std::move(fn)); }
  void shutdown() override { pool_.shutdown(); }

 private:
  WorkerPool pool_;
};

}  // namespace

OpenAIServer::OpenAIServer(ServerOptions options)
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  const size_t workers = static_cast<size_t>(options_.max_queued_requests) + 8;
  http_->new_task_queue = [workers] { return new WorkerPoolQueue(workers); };
  http_->set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;  // the last socket tried is the one that bound
  });
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(options_.read_timeout_seconds, 0);
  http_->set_write_timeout(options_.write_timeout_seconds, 0);
  install_routes();
}

OpenAIServer::~OpenAIServer() { stop(); }

bool OpenAIServer::authorized(const httplib::Request& req) const {
  if (options_.api_key.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  const std::string given = header.rfind(prefix, 0) == 0 ? header.substr(prefix.size()) : "";
  return equal_constant_time(given, options_.api_key);
}

void OpenAIServer::add_cors(const httplib::Request& req, httplib::Response& res) const {
  if (options_.allowed_origins.empty()) return;
  const std::string origin = req.get_header_value("Origin");
  for (const auto& allowed : options_.allowed_origins)
    if (allowed == "*" || allowed == origin) {
      res.set_header("Access-Control-Allow-Origin", allowed == "*" ? "*" : origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      return;
    }
}

void OpenAIServer::install_routes() {
  using httplib::Request;
  using httplib::Response;
  http_->set_pre_routing_handler([this](const Request& req, Response& res) {
    add_cors(req, res);
    if (req.method == "OPTIONS" && !options_.allowed_origins.empty()) {
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    // The chat page itself holds no data: a browser loads it without a key and then sends the
    // key with every API call it makes.
    const bool page = req.method == "GET" && req.path == "/";
    if (!page && !authorized(req)) {
      send_error(res, ApiError(401, "missing or incorrect API key (Authorization: Bearer ...)", "",
                               "invalid_request_error", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Statuses httplib sets itself (404, 413, ...) get OpenAI's body too.
  http_->set_error_handler([](const Request& req, Response& res) {
    if (!res.body.empty()) return;
    std::string message = status_message(res.status);
    if (res.status == 404) message = fmt::format("no route {} {}", req.method, req.path);
    send_json(res, res.status, ApiError(res.status, message).body());
  });
  http_->set_logger(
      [this](const Request&, const Response& res) { metrics_.count_http(res.status); });

  http_->Get("/", [](const Request&, Response& res) {
    res.set_content(chat_page_html(), "text/html; charset=utf-8");
  });
  http_->Get("/health", [this](const Request&, Response& res) {
    if (loaded_)
      send_json(res, 200, {{"status", "ok"}});
    else
      send_json(res, 503, {{"status", "loading"}});
  });
  http_->Get("/v1/models", [this](const Request&, Response& res) {
    Json model = {
        {"id", options_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "llmcc"}};
    send_json(res, 200, {{"object", "list"}, {"data", Json::array({model})}});
  });
  http_->Post("/v1/chat/completions",
              [this](const Request& req, Response& res) { handle_generation(req, res, true); });
  http_->Post("/v1/completions",
              [this](const Request& req, Response& res) { handle_generation(req, res, false); });
  http_->Post("/v1/embeddings",
              [this](const Request& req, Response& res) { handle_embeddings(req, res); });
  http_->Post("/tokenize",
              [this](const Request& req, Response& res) { handle_tokenize(req, res); });
  http_->Post("/detokenize",
              [this](const Request& req, Response& res) { handle_detokenize(req, res); });
  http_->Get("/metrics", [this](const Request&, Response& res) { handle_metrics(res); });
}

void OpenAIServer::handle_generation(const httplib::Request& req, httplib::Response& res,
                                     bool chat) {
  guarded(res, [&] {
    if (!loaded_) throw ApiError(503, "the model is still loading", "", "server_error");
    if (!model_.engine)
      throw ApiError(400,
                     fmt::format("'{}' is an embedding model; it answers POST /v1/embeddings",
                                 options_.model_id),
                     "model", "invalid_request_error", "model_not_supported");
    const Json body = parse_body(req);
    const SamplingParams defaults = model_.chat ? model_.chat->sampling : SamplingParams{};
    TextRequest request =
        chat ? parse_chat_request(body, defaults) : parse_completion_request(body, defaults);
    check_model_name(request.model);
    reserve_request_slot();
    std::shared_ptr<CompletionJob> job;
    try {
      job = std::make_shared<CompletionJob>(*model_.engine, *model_.tokenizer, model_.chat, request,
                                            metrics_);
      job->start();
    } catch (...) {
      in_flight_.fetch_sub(1);
      throw;
    }
    const ResponseIds ids = new_response_ids(chat ? "chatcmpl" : "cmpl", options_.model_id);
    // Tool calls are parsed out of a finished reply (tool_calls.h); empty: none to look for.
    const std::vector<ToolSpec> tools =
        request.tools_active() && model_.chat ? request.tools : std::vector<ToolSpec>{};
    const ToolFormat format = model_.chat ? tool_format_for_template(model_.chat->conversation.name)
                                          : ToolFormat::kHermes;
    if (!request.stream) {
      std::vector<ChoiceResult> results;
      try {
        results = job->results();
      } catch (...) {
        in_flight_.fetch_sub(1);
        throw;
      }
      in_flight_.fetch_sub(1);
      const Json usage = usage_json(job->prompt_tokens(), job->completion_tokens());
      if (chat) {
        send_json(res, 200,
                  chat_completion(ids, results, request.logprobs, *model_.tokenizer, usage, tools,
                                  format));
      } else {
        std::vector<std::string> echoed;
        if (request.echo)
          for (size_t i = 0; i < results.size(); ++i)
            echoed.push_back(job->prompt_text(i / request.n));
        send_json(
            res, 200,
            text_completion(ids, results, request.logprobs, *model_.tokenizer, usage, echoed));
      }
      return;
    }
    // A stream: the role first (chat), then text as it comes, a finish per choice, the usage
    // when asked for, and [DONE]. A failed write means the client left: cancel the request.
    // With tools, a choice's text is held back until it ends, because only the whole reply
    // says whether it is a call; then it goes out as content or as tool_calls.
    struct StreamState {
      bool started = false, ended = false;
      std::map<int64_t, std::string> held;  // choice -> text held back
    };
    auto state = std::make_shared<StreamState>();
    const Tokenizer* tokenizer = model_.tokenizer;
    const bool include_usage = request.include_usage, logprobs = request.logprobs;
    auto provider = [job, ids, chat, include_usage, logprobs, tokenizer, state, tools, format](
                        size_t, httplib::DataSink& sink) {
      auto write = [&](const Json& payload) {
        Json p = payload;
        if (include_usage) p["usage"] = nullptr;
        const std::string text = sse_event(p);
        return sink.write(text.data(), text.size());
      };
      if (!state->started) {
        state->started = true;
        if (chat)
          for (size_t i = 0; i < job->num_choices(); ++i) {
            Json choice = {{"index", i},
                           {"delta", {{"role", "assistant"}, {"content", ""}}},
                           {"logprobs", nullptr},
                           {"finish_reason", nullptr}};
            if (!write(chat_chunk(ids, Json::array({choice})))) return false;
          }
      }
      for (const ChoiceEvent& e : job->next_events(std::chrono::milliseconds(50))) {
        std::string finish = e.finish ? *e.finish : "";
        if (!tools.empty()) {
          state->held[e.index] += e.text;
          if (!e.finish) continue;
          const Json delta = assistant_message(state->held[e.index], tools, format, finish, true);
          Json choice = {{"index", e.index},
                         {"delta", delta},
                         {"logprobs", nullptr},
                         {"finish_reason", nullptr}};
          if (!write(chat_chunk(ids, Json::array({choice})))) return false;
        } else if (!e.text.empty() || !e.tokens.empty()) {
          Json lp = nullptr;
          if (logprobs && !e.tokens.empty())
            lp = chat ? chat_logprobs(*tokenizer, e.tokens, e.logprobs)
                      : completion_logprobs(*tokenizer, e.tokens, e.logprobs, 0);
          Json choice = chat ? Json{{"index", e.index},
                                    {"delta", {{"content", e.text}}},
                                    {"logprobs", lp},
                                    {"finish_reason", nullptr}}
                             : Json{{"text", e.text},
                                    {"index", e.index},
                                    {"logprobs", lp},
                                    {"finish_reason", nullptr}};
          if (!write(chat ? chat_chunk(ids, Json::array({choice}))
                          : completion_chunk(ids, Json::array({choice}))))
            return false;
        }
        if (e.finish) {
          Json choice = chat ? Json{{"index", e.index},
                                    {"delta", Json::object()},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish}}
                             : Json{{"text", ""},
                                    {"index", e.index},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish}};
          if (!write(chat ? chat_chunk(ids, Json::array({choice}))
                          : completion_chunk(ids, Json::array({choice}))))
            return false;
        }
      }
      if (job->finished() && !state->ended) {
        state->ended = true;
        if (include_usage) {
          Json last = chat ? chat_chunk(ids, Json::array()) : completion_chunk(ids, Json::array());
          last["usage"] = usage_json(job->prompt_tokens(), job->completion_tokens());
          const std::string text = sse_event(last);
          if (!sink.write(text.data(), text.size())) return false;
        }
        if (!sink.write(kSseDone, std::strlen(kSseDone))) return false;
        sink.done();
      }
      return true;
    };
    auto releaser = [this, job](bool success) {
      if (!success) job->cancel();
      in_flight_.fetch_sub(1);
    };
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", provider, releaser);
  });
}

void OpenAIServer::check_model_name(const std::string& model) const {
  if (!model.empty() && model != options_.model_id)
    throw ApiError(404,
                   fmt::format("The model '{}' does not exist; this server serves '{}'", model,
                               options_.model_id),
                   "model", "invalid_request_error", "model_not_found");
}

void OpenAIServer::reserve_request_slot() {
  if (in_flight_.fetch_add(1) >= options_.max_queued_requests) {
    in_flight_.fetch_sub(1);
    throw ApiError(
        429,
        fmt::format("{} requests are already in flight; retry later", options_.max_queued_requests),
        "", "rate_limit_error");
  }
}

void OpenAIServer::handle_embeddings(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    if (!loaded_) throw ApiError(503, "the model is still loading", "", "server_error");
    if (!model_.embeddings)
      throw ApiError(400,
                     fmt::format("'{}' generates text; /v1/embeddings needs an embedding model "
                                 "such as BERT",
                                 options_.model_id),
                     "model", "invalid_request_error", "model_not_supported");
    const EmbeddingRequest request = parse_embedding_request(parse_body(req));
    check_model_name(request.model);
    const Embedder& embedder = *model_.embedder;
    auto inputs = embedding_inputs(request, embedder, embedder.vocab_size(),
                                   embedder.settings().max_seq_length);
    reserve_request_slot();
    std::vector<Embedding> embeddings;
    try {
      embeddings = model_.embeddings->embed(std::move(inputs));
    } catch (...) {
      in_flight_.fetch_sub(1);
      throw;
    }
    in_flight_.fetch_sub(1);
    send_json(res, 200, embedding_response(embeddings, options_.model_id, request.base64));
  });
}

void OpenAIServer::require_tokenizer() const {
  if (!model_.tokenizer)
    throw ApiError(400,
                   fmt::format("'{}' was served from a folder without tokenizer.json or "
                               "tokenizer.model; it takes token ids only",
                               options_.model_id),
                   "", "invalid_request_error", "model_not_supported");
}

void OpenAIServer::handle_tokenize(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    if (!loaded_) throw ApiError(503, "the model is still loading", "", "server_error");
    require_tokenizer();
    const Json body = parse_body(req);
    if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
    std::vector<int32_t> ids;
    if (body.contains("messages")) {
      if (!model_.engine) bad_field("messages", "an embedding model has no chat template");
      TextRequest r = parse_chat_request(body, SamplingParams{});
      CompletionJob job(*model_.engine, *model_.tokenizer, model_.chat, r, metrics_);
      ids = job.prompt_ids(0);
    } else {
      auto it = body.find("prompt");
      if (it == body.end() || !it->is_string()) bad_field("prompt", "expected a string");
      bool special = true;
      if (auto s = body.find("add_special_tokens"); s != body.end()) {
        if (!s->is_boolean()) bad_field("add_special_tokens", "expected a boolean");
        special = s->get<bool>();
      }
      ids = model_.tokenizer->encode(it->get<std::string>(), special);
    }
    send_json(res, 200,
              {{"tokens", ids},
               {"count", ids.size()},
               {"max_model_len", model_.engine ? model_.engine->context_window_size()
                                               : model_.embedder->settings().max_seq_length}});
  });
}

void OpenAIServer::handle_detokenize(const httplib::Request& req, httplib::Response& res) {
  guarded(res, [&] {
    if (!loaded_) throw ApiError(503, "the model is still loading", "", "server_error");
    require_tokenizer();
    const Json body = parse_body(req);
    if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
      bad_field("tokens", "expected an array of token ids");
    std::vector<int32_t> ids;
    for (size_t i = 0; i < body["tokens"].size(); ++i) {
      const Json& t = body["tokens"][i];
      if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
          t.get<int64_t>() >= model_.tokenizer->vocab_size())
        bad_field(fmt::format("tokens[{}]", i), "not a token id of this vocabulary");
      ids.push_back(t.get<int32_t>());
    }
    send_json(res, 200, {{"prompt", model_.tokenizer->decode(ids)}});
  });
}

void OpenAIServer::handle_metrics(httplib::Response& res) {
  EngineGauges g;
  if (loaded_ && model_.engine) {
    Engine& engine = *model_.engine;
    g.running = engine.num_running();
    g.waiting = engine.num_waiting();
    const Engine::PageCounts pages = engine.kv_page_counts();
    g.kv_cache_usage =
        pages.total ? static_cast<double>(pages.in_use) / static_cast<double>(pages.total) : 0;
    const EngineStats s = engine.stats();
    g.prefix_hits = s.prefix_hits;
    g.prefix_misses = s.prefix_misses;
    g.evicted_pages = s.evicted_pages;
    g.preemptions = s.preemptions;
  }
  res.status = 200;
  res.set_content(metrics_.exposition(g), "text/plain; version=0.0.4; charset=utf-8");
}

void OpenAIServer::start() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ < 0) user_error("cannot listen on {}: no free port", options_.host);
  } else {
    if (!http_->bind_to_port(options_.host, options_.port))
      user_error("cannot listen on {}:{} (in use, or not an address of this machine)",
                 options_.host, options_.port);
    port_ = options_.port;
  }
  // cpp-httplib 0.11 (Debian 12) listens with a backlog of 5, so a burst of more than 5 clients
  // connecting at once overflowed the accept queue: their connections waited for a SYN retry
  // (a second) or were reset. listen() again on the bound socket raises the backlog.
  if (::listen(listen_fd_, SOMAXCONN) != 0)
    fmt::print(stderr, "llmcc serve: warning: could not raise the listen backlog: {}\n",
               std::strerror(errno));
  thread_ = std::make_unique<std::thread>([this] { http_->listen_after_bind(); });
}

void OpenAIServer::set_model(const ServedModel& model) {
  model_ = model;
  loaded_ = true;
}

void OpenAIServer::stop() {
  if (http_) http_->stop();
  if (thread_ && thread_->joinable()) thread_->join();
}

}  // namespace llmcc::serve
