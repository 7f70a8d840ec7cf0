// An independent, naive Llama forward pass in double precision, for checking compiled libraries.
// It shares no code with llmcc: plain loops over std::vector, written from the Hugging Face
// definition (RMSNorm, rotate-half RoPE, causal softmax attention with GQA, SwiGLU).
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace llmcc::testing {

struct ReferenceLlama {
  int64_t hidden = 0, inter = 0, heads = 0, kv_heads = 0, head_dim = 0, layers = 0, vocab = 0;
  double eps = 1e-5, theta = 10000.0;
  bool tied = false;
  std::map<std::string, std::vector<float>> w;  // MLC names, fused qkv and gate_up

  // Logits [n, vocab] for every position of `ids`, from an empty cache.
  std::vector<std::vector<double>> forward(const std::vector<int32_t>& ids) const {
    const int64_t n = static_cast<int64_t>(ids.size()), H = hidden, d = head_dim;
    std::vector<std::vector<double>> h(n, std::vector<double>(H));
    const auto& emb = w.at("model.embed_tokens.weight");
    for (int64_t t = 0; t < n; ++t)
      for (int64_t i = 0; i < H; ++i) h[t][i] = emb[ids[t] * H + i];
    auto norm = [&](const std::vector<double>& x, const std::vector<float>& g) {
      double ss = 0;
      for (double v : x) ss += v * v;
      double inv = 1.0 / std::sqrt(ss / x.size() + eps);
      std::vector<double> y(x.size());
      for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * g[i];
      return y;
    };
    auto matvec = [&](const std::vector<float>& W, const std::vector<double>& x, int64_t rows) {
      std::vector<double> y(rows, 0.0);
      const int64_t cols = static_cast<int64_t>(x.size());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) y[r] += W[r * cols + c] * x[c];
      return y;
    };
    auto rope = [&](std::vector<double>& v, int64_t offset, int64_t pos) {
      for (int64_t i = 0; i < d / 2; ++i) {
        double inv = 1.0 / std::pow(theta, double(2 * i) / d);
        double c = std::cos(pos * inv), s = std::sin(pos * inv);
        double a = v[offset + i], b = v[offset + i + d / 2];
        v[offset + i] = a * c - b * s;
        v[offset + i + d / 2] = b * c + a * s;
      }
    };
    for (int64_t l = 0; l < layers; ++l) {
      std::string p = "model.layers." + std::to_string(l) + ".";
      std::vector<std::vector<double>> qkv(n);
      for (int64_t t = 0; t < n; ++t) {
        qkv[t] = matvec(w.at(p + "self_attn.qkv_proj.weight"),
                        norm(h[t], w.at(p + "input_layernorm.weight")), (heads + 2 * kv_heads) * d);
        for (int64_t hh = 0; hh < heads + kv_heads; ++hh) rope(qkv[t], hh * d, t);
      }
      for (int64_t t = 0; t < n; ++t) {
        std::vector<double> attn(heads * d, 0.0);
        for (int64_t hh = 0; hh < heads; ++hh) {
          int64_t kvh = hh / (heads / kv_heads);
          std::vector<double> s(t + 1);
          double mx = -1e300;
          for (int64_t j = 0; j <= t; ++j) {
            double dot = 0;
            for (int64_t i = 0; i < d; ++i)
              dot += qkv[t][hh * d + i] * qkv[j][(heads + kvh) * d + i];
            s[j] = dot / std::sqrt(double(d));
            mx = std::max(mx, s[j]);
          }
          double sum = 0;
          for (auto& v : s) sum += (v = std::exp(v - mx));
          for (int64_t j = 0; j <= t; ++j)
            for (int64_t i = 0; i < d; ++i)
              attn[hh * d + i] += s[j] / sum * qkv[j][(heads + kv_heads + kvh) * d + i];
        }
        auto o = matvec(w.at(p + "self_attn.o_proj.weight"), attn, H);
        for (int64_t i = 0; i < H; ++i) h[t][i] += o[i];
      }
      for (int64_t t = 0; t < n; ++t) {
        auto gu = matvec(w.at(p + "mlp.gate_up_proj.weight"),
                         norm(h[t], w.at(p + "post_attention_layernorm.weight")), 2 * inter);
        std::vector<double> act(inter);
        for (int64_t i = 0; i < inter; ++i) act[i] = gu[i] / (1 + std::exp(-gu[i])) * gu[inter + i];
        auto down = matvec(w.at(p + "mlp.down_proj.weight"), act, H);
        for (int64_t i = 0; i < H; ++i) h[t][i] += down[i];
      }
    }
    std::vector<std::vector<double>> logits(n);
    const auto& head = w.at(tied ? "model.embed_tokens.weight" : "lm_head.weight");
    for (int64_t t = 0; t < n; ++t)
      logits[t] = matvec(head, norm(h[t], w.at("model.norm.weight")), vocab);
    return logits;
  }
};

}  // namespace llmcc::testing
