// Sentence embeddings from an encoder's last hidden states, as sentence-transformers pools them:
// the first ([CLS]) token's row, or the mean over the real tokens, then optionally L2-normalized.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmcc {

enum class Pooling { kCls, kMean, kNone };

// "cls", "mean" or "none"; UserError naming `what` for anything else.
Pooling pooling_from_name(const std::string& name, const std::string& what);
const char* pooling_name(Pooling p);

// hidden: [tokens, H] in f32. kCls and kMean give [H]; kNone returns the rows unchanged.
std::vector<float> pool(const std::vector<float>& hidden, int64_t H, Pooling pooling);

// Divides each row of `rows` ([n, H]) by its L2 norm (by max(norm, 1e-12), as torch's
// F.normalize does).
void l2_normalize_rows(std::vector<float>& rows, int64_t H);

}  // namespace llmcc
