#include "tools/llmcc/encoder_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "runtime/encoder.h"
#include "support/error.h"
#include "support/json.h"

namespace llmcc::cli {

int run_encoder_bench(const EncoderBenchOptions& o) {
  Encoder encoder(o.model_dir, o.model_lib, /*verify_md5=*/false);
  const int64_t batch = o.batch > 0 ? o.batch : encoder.max_batch_size();
  if (o.tokens < 1 || o.tokens > encoder.max_sequence_length())
    user_error("--prompt must be in [1, {}] (the library's prefill_chunk_size), got {}",
               encoder.max_sequence_length(), o.tokens);
  if (o.runs < 1) user_error("--runs must be >= 1");
  const Json& config = encoder.metadata().at("model_config");
  const int64_t vocab = config.at("vocab_size"), H = config.at("hidden_size");
  const int64_t I = config.at("intermediate_size"), layers = config.at("num_hidden_layers");
  std::vector<std::vector<int32_t>> sequences(batch, std::vector<int32_t>(o.tokens));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < o.tokens; ++t)
      sequences[b][t] = static_cast<int32_t>((b * 131 + t * 7919 + 13) % vocab);
  encoder.encode(sequences);  // warm-up: page in the weights, start the threads
  std::vector<double> seconds;
  for (int64_t r = 0; r < o.runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    encoder.encode(sequences);
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double tokens = static_cast<double>(batch * o.tokens);
  // The matmuls per token: q, k, v, o (4 H^2) and the MLP (2 H I), two flops a multiply-add.
  const double gflops = 2.0 * layers * (4.0 * H * H + 2.0 * H * I) * tokens / median / 1e9;
  const Json out = {{"model_lib", o.model_lib},
                    {"quantization", encoder.metadata().value("quantization", "")},
                    {"sequences", batch},
                    {"tokens_per_sequence", o.tokens},
                    {"runs", o.runs},
                    {"median_seconds", median},
                    {"sequences_per_s", batch / median},
                    {"tokens_per_s", tokens / median},
                    {"matmul_gflop_s", gflops}};
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf(
      "encode: %lld sequences of %lld tokens in %.1f ms: %.1f sequences/s, %.0f tok/s, matmuls "
      "at %.1f GFLOP/s (median of %lld runs)\n",
      static_cast<long long>(batch), static_cast<long long>(o.tokens), median * 1e3, batch / median,
      tokens / median, gflops, static_cast<long long>(o.runs));
  return 0;
}

}  // namespace llmcc::cli
