// Turns logits into the next token: penalties, then Hugging Face's warper order (temperature,
// top-k, top-p, min-p), then a draw from a seeded generator. Temperature <= 1e-5 means greedy, as
// in MLC.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace llmcc {

struct SamplingParams {
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;   // 0: off
  double min_p = 0.0;  // 0: off; else drop tokens below min_p times the most likely one
  double repetition_penalty = 1.0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  uint64_t seed = 0;
};

// UserError naming the parameter when one is out of range.
void validate_sampling(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(SamplingParams params);
  // `history` is every token so far (prompt and generated), for the penalties. `logits` is
  // modified in place.
  int32_t sample(std::vector<float>& logits, const std::vector<int32_t>& history);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

// A chosen token's log-probability under the raw logits (log-softmax at temperature 1, before
// penalties and filters, as OpenAI's logprobs report), and the `top` most likely tokens'.
struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;
};
TokenLogprob token_logprob(const std::vector<float>& logits, int32_t token, int64_t top);

// The penalties alone, exposed for tests: repetition (HF: divide positive logits, multiply
// negative ones) and OpenAI's presence and frequency penalties.
void apply_penalties(std::vector<float>& logits, const std::vector<int32_t>& history,
                     const SamplingParams& params);

// The tokens a non-greedy draw chooses from and their probabilities (summing to 1), most likely
// first: the softmax at the temperature, cut by top-k, then top-p, then min-p. Penalties are not
// applied here. Exposed so tests can check the filters exactly.
std::vector<std::pair<int32_t, double>> sampling_candidates(const std::vector<float>& logits,
                                                            const SamplingParams& params);

}  // namespace llmcc
