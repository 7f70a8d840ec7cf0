#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "support/error.h"

namespace llmcc {

void validate_sampling(const SamplingParams& p) {
  if (!(p.temperature >= 0)) user_error("temperature must be >= 0, got {}", p.temperature);
  if (!(p.top_p > 0 && p.top_p <= 1)) user_error("top_p must be in (0, 1], got {}", p.top_p);
  if (p.top_k < 0) user_error("top_k must be >= 0 (0 turns it off), got {}", p.top_k);
  if (!(p.min_p >= 0 && p.min_p <= 1))
    user_error("min_p must be in [0, 1] (0 turns it off), got {}", p.min_p);
  if (!(p.repetition_penalty > 0))
    user_error("repetition_penalty must be > 0, got {}", p.repetition_penalty);
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {
  validate_sampling(params_);
}

TokenLogprob token_logprob(const std::vector<float>& logits, int32_t token, int64_t top) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  const float log_sum = static_cast<float>(std::log(sum)) + max;
  TokenLogprob out;
  out.token = token;
  out.logprob = logits.at(token) - log_sum;
  const size_t n = std::min(logits.size(), static_cast<size_t>(std::max<int64_t>(top, 0)));
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  for (size_t i = 0; i < n; ++i) out.top.emplace_back(order[i], logits[order[i]] - log_sum);
  return out;
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

std::vector<std::pair<int32_t, double>> sampling_candidates(const std::vector<float>& logits,
                                                            const SamplingParams& p) {
  if (logits.empty()) internal_error("sampling_candidates: empty logits");
  // Candidates sorted by logit, cut by top-k.
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  size_t keep = p.top_k > 0 ? std::min<size_t>(p.top_k, order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  order.resize(keep);
  // Softmax at the temperature, in double for a stable cumulative sum.
  const double temperature = std::max(p.temperature, 1e-5);
  std::vector<double> probs(keep);
  const double max_logit = logits[order[0]];
  double total = 0;
  for (size_t i = 0; i < keep; ++i)
    total += probs[i] = std::exp((logits[order[i]] - max_logit) / temperature);
  for (double& q : probs) q /= total;
  // Top-p: the smallest prefix whose mass reaches top_p.
  size_t cut = keep;
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) {
    mass += probs[i];
    if (mass >= p.top_p) {
      cut = i + 1;
      break;
    }
  }
  // Min-p: tokens at least min_p times as likely as the best (the ratio survives renormalising,
  // so applying it after top-p as HF does only shortens the same sorted prefix).
  const double floor = p.min_p * probs[0];
  while (cut > 1 && probs[cut - 1] < floor) --cut;
  const double kept = std::accumulate(probs.begin(), probs.begin() + cut, 0.0);
  std::vector<std::pair<int32_t, double>> out(cut);
  for (size_t i = 0; i < cut; ++i) out[i] = {order[i], probs[i] / kept};
  return out;
}

int32_t Sampler::sample(std::vector<float>& logits, const std::vector<int32_t>& history) {
  if (logits.empty()) internal_error("sample: empty logits");
  apply_penalties(logits, history, params_);
  if (params_.temperature <= 1e-5)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const auto candidates = sampling_candidates(logits, params_);
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  for (const auto& [token, prob] : candidates) {
    u -= prob;
    if (u <= 0) return token;
  }
  return candidates.back().first;
}

}  // namespace llmcc
