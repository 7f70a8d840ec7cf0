// Turns logits into the next token: penalties, temperature, top-k, top-p, then a draw from a
// seeded generator. Temperature <= 1e-5 means greedy, as in MLC.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace llmcc {

struct SamplingParams {
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;  // 0: off
  double repetition_penalty = 1.0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  uint64_t seed = 0;
};

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

// The penalties alone, exposed for tests: repetition (HF: divide positive logits, multiply
// negative ones) and OpenAI's presence and frequency penalties.
void apply_penalties(std::vector<float>& logits, const std::vector<int32_t>& history,
                     const SamplingParams& params);

}  // namespace llmcc
