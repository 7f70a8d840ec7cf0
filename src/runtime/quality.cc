#include "runtime/quality.h"

#include <algorithm>
#include <cmath>

#include "support/error.h"

namespace llmcc {

std::vector<double> log_softmax(const std::vector<float>& logits) {
  double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(l - mx);
  double lse = mx + std::log(sum);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - lse;
  return out;
}

QualityReport evaluate_quality(Engine& model, Engine* base, const std::vector<int32_t>& tokens,
                               int64_t window) {
  if (window < 2) user_error("the evaluation window must hold at least 2 tokens");
  window = std::min(window, model.context_window_size());
  if (base) window = std::min(window, base->context_window_size());
  if (base && base->vocab_size() != model.vocab_size())
    user_error("the base model's vocabulary ({}) differs from the model's ({})", base->vocab_size(),
               model.vocab_size());
  QualityReport r;
  r.has_base = base != nullptr;
  double nll = 0, base_nll = 0, kld = 0;
  int64_t agree = 0;
  for (size_t begin = 0; begin + 1 < tokens.size(); begin += window) {
    size_t end = std::min(tokens.size(), begin + static_cast<size_t>(window));
    std::vector<int32_t> chunk(tokens.begin() + begin, tokens.begin() + end);
    auto rows = model.score(chunk);
    std::vector<std::vector<float>> base_rows;
    if (base) base_rows = base->score(chunk);
    for (size_t t = 0; t + 1 < chunk.size(); ++t) {
      auto lp = log_softmax(rows[t]);
      nll -= lp[chunk[t + 1]];
      ++r.predictions;
      if (!base) continue;
      auto blp = log_softmax(base_rows[t]);
      base_nll -= blp[chunk[t + 1]];
      for (size_t v = 0; v < lp.size(); ++v) kld += std::exp(blp[v]) * (blp[v] - lp[v]);
      agree += std::max_element(rows[t].begin(), rows[t].end()) - rows[t].begin() ==
               std::max_element(base_rows[t].begin(), base_rows[t].end()) - base_rows[t].begin();
    }
  }
  if (r.predictions == 0) user_error("the text is too short to score: it needs at least 2 tokens");
  r.ppl = std::exp(nll / r.predictions);
  if (base) {
    r.base_ppl = std::exp(base_nll / r.predictions);
    r.kld = kld / r.predictions;
    r.top1 = static_cast<double>(agree) / r.predictions;
  }
  return r;
}

}  // namespace llmcc
