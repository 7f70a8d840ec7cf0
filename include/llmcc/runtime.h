// llmcc's runtime API for applications: load a compiled model library and its converted weights,
// then generate (streaming each token) or read logits. It needs only libllmcc_runtime, not the
// compiler. Errors are std::runtime_error whose message names the file or value at fault.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmcc {

class Engine;

struct GenerateOptions {
  int64_t max_tokens = 32;
  double temperature = 0;  // 0: greedy
  double top_p = 1.0;
  uint64_t seed = 0;
  std::vector<int32_t> stop_token_ids;
};

class Model {
 public:
  // `model_lib` is what `llmcc compile` wrote (.so); `model_dir` holds tensor-cache.json, its
  // shards and mlc-chat-config.json. verify_md5 checks every shard against the record.
  static std::unique_ptr<Model> load(const std::string& model_lib, const std::string& model_dir,
                                     bool verify_md5 = true);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  int64_t vocab_size() const;
  int64_t context_window_size() const;

  // Called with each token as it is chosen and the logits it was chosen from; returning false
  // stops the generation after that token.
  using OnToken = std::function<bool(int32_t token, const std::vector<float>& logits)>;
  // The continuation of `prompt` (token ids), up to options.max_tokens or a stop token.
  std::vector<int32_t> generate(const std::vector<int32_t>& prompt,
                                const GenerateOptions& options = {},
                                const OnToken& on_token = nullptr);
  // The logits of the token after `tokens`.
  std::vector<float> next_token_logits(const std::vector<int32_t>& tokens);

 private:
  explicit Model(std::unique_ptr<Engine> engine);
  std::unique_ptr<Engine> engine_;
};

}  // namespace llmcc
