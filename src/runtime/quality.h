// Quality of a model on a token stream: perplexity, and against a base model (normally q0f32)
// the mean KL divergence and top-1 agreement of the next-token distributions.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/engine.h"

namespace llmcc {

struct QualityReport {
  int64_t predictions = 0;  // next-token predictions scored
  double ppl = 0;
  bool has_base = false;
  double base_ppl = 0;
  double kld = 0;   // mean KL(base || model), nats
  double top1 = 0;  // fraction of positions where both pick the same most likely token
};

// Scores `tokens` in independent windows of at most `window` tokens (each window starts a fresh
// sequence); every window of n tokens gives n - 1 predictions.
QualityReport evaluate_quality(Engine& model, Engine* base, const std::vector<int32_t>& tokens,
                               int64_t window);

// log-softmax of one row of logits, in double.
std::vector<double> log_softmax(const std::vector<float>& logits);

}  // namespace llmcc
