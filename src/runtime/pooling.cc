#include "runtime/pooling.h"

#include <algorithm>
#include <cmath>

#include "support/error.h"

namespace llmcc {

Pooling pooling_from_name(const std::string& name, const std::string& what) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  if (name == "none") return Pooling::kNone;
  user_error("{}: pooling must be cls, mean or none, got '{}'", what, name);
}

const char* pooling_name(Pooling p) {
  return p == Pooling::kCls ? "cls" : p == Pooling::kMean ? "mean" : "none";
}

std::vector<float> pool(const std::vector<float>& hidden, int64_t H, Pooling pooling) {
  const int64_t tokens = static_cast<int64_t>(hidden.size()) / H;
  if (tokens <= 0 || tokens * H != static_cast<int64_t>(hidden.size()))
    internal_error("pool: {} values are not rows of {}", hidden.size(), H);
  if (pooling == Pooling::kNone) return hidden;
  if (pooling == Pooling::kCls) return {hidden.begin(), hidden.begin() + H};
  // The mean in double: the sum of a few hundred rows loses nothing then.
  std::vector<double> sum(H, 0.0);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < H; ++i) sum[i] += hidden[t * H + i];
  std::vector<float> out(H);
  for (int64_t i = 0; i < H; ++i) out[i] = static_cast<float>(sum[i] / static_cast<double>(tokens));
  return out;
}

void l2_normalize_rows(std::vector<float>& rows, int64_t H) {
  for (size_t r = 0; r + H <= rows.size(); r += H) {
    double sq = 0;
    for (int64_t i = 0; i < H; ++i) sq += double(rows[r + i]) * rows[r + i];
    const double inv = 1.0 / std::max(std::sqrt(sq), 1e-12);
    for (int64_t i = 0; i < H; ++i) rows[r + i] = static_cast<float>(rows[r + i] * inv);
  }
}

}  // namespace llmcc
