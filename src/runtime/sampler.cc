#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "support/error.h"

namespace llmcc {

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {
  if (params_.temperature < 0) user_error("temperature must be >= 0, got {}", params_.temperature);
  if (params_.top_p <= 0 || params_.top_p > 1)
    user_error("top_p must be in (0, 1], got {}", params_.top_p);
  if (params_.top_k < 0) user_error("top_k must be >= 0, got {}", params_.top_k);
  if (params_.repetition_penalty <= 0)
    user_error("repetition_penalty must be > 0, got {}", params_.repetition_penalty);
}

void apply_penalties(std::vector<float>& logits, const std::vector<int32_t>& history,
                     const SamplingParams& p) {
  if (p.repetition_penalty == 1.0 && p.presence_penalty == 0.0 && p.frequency_penalty == 0.0)
    return;
  std::map<int32_t, int> counts;
  for (int32_t t : history)
    if (t >= 0 && t < static_cast<int32_t>(logits.size())) ++counts[t];
  for (const auto& [token, count] : counts) {
    float& l = logits[token];
    if (p.repetition_penalty != 1.0)
      l = l > 0 ? static_cast<float>(l / p.repetition_penalty)
                : static_cast<float>(l * p.repetition_penalty);
    l -= static_cast<float>(p.presence_penalty + p.frequency_penalty * count);
  }
}

int32_t Sampler::sample(std::vector<float>& logits, const std::vector<int32_t>& history) {
  if (logits.empty()) internal_error("sample: empty logits");
  apply_penalties(logits, history, params_);
  if (params_.temperature <= 1e-5)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  // Candidates sorted by logit, cut by top-k.
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  size_t keep = params_.top_k > 0 ? std::min<size_t>(params_.top_k, order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  order.resize(keep);
  // Softmax at the temperature, in double for a stable cumulative sum.
  std::vector<double> probs(keep);
  const double max_logit = logits[order[0]];
  double total = 0;
  for (size_t i = 0; i < keep; ++i)
    total += probs[i] = std::exp((logits[order[i]] - max_logit) / params_.temperature);
  // Top-p: the smallest prefix whose mass reaches top_p.
  size_t cut = keep;
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) {
    mass += probs[i] / total;
    if (mass >= params_.top_p) {
      cut = i + 1;
      break;
    }
  }
  double kept_total = std::accumulate(probs.begin(), probs.begin() + cut, 0.0);
  double u = std::uniform_real_distribution<double>(0.0, kept_total)(rng_);
  for (size_t i = 0; i < cut; ++i) {
    u -= probs[i];
    if (u <= 0) return order[i];
  }
  return order[cut - 1];
}

}  // namespace llmcc
