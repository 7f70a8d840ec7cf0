// The light ops: elementwise arithmetic and last-axis slicing. Model code calls these with its
// static sizes; after fusion most of them are gone (swiglu and the matmul epilogue absorb them).
#pragma once

#include "dot.h"

namespace llmcc::cpu_kernels {

inline float silu(float v) { return v / (1.0f + std::exp(-v)); }
// GELU, exact (erf) and with Hendrycks' tanh approximation (gelu_pytorch_tanh, gelu_new).
inline float gelu(float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); }
inline float gelu_tanh(float v) {
  return 0.5f * v * (1.0f + std::tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
}

// The activations by name, for the ops that take one as an attribute.
enum class Activation { kSilu, kGelu, kGeluTanh };
inline float activate(Activation a, float v) {
  return a == Activation::kSilu ? silu(v) : a == Activation::kGelu ? gelu(v) : gelu_tanh(v);
}

template <typename T>
void add(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));
}

template <typename T>
void mul(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(to_float(a[i]) * to_float(b[i]));
}

template <typename T>
void silu(const T* a, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(silu(to_float(a[i])));
}

template <typename T>
void activation(Activation act, const T* a, T* y, int64_t n) {
#if defined(__AVX512F__)
  // Exact GELU (BERT, GPT-NeoX) in vectors, the tail too (masked), so that every element takes
  // the same formula whatever n is.
  if constexpr (std::is_same_v<T, float>) {
    if (act == Activation::kGelu) {
      for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, gelu16(_mm512_maskz_loadu_ps(m, a + i)));
      }
      return;
    }
  }
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(activate(act, to_float(a[i])));
}

// y = x * round(factor): Gemma's embedding scale, whose factor is a tensor of the model dtype.
template <typename T>
void scale(const T* a, T* y, int64_t n, float factor) {
  const float f = round_to<T>(factor);
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(to_float(a[i]) * f);
}

// y = cap * tanh(x / cap): Gemma 2's final-logit softcapping, computed in f32.
template <typename T>
void softcap(const T* a, T* y, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<T>(cap * std::tanh(to_float(a[i]) / cap));
}

template <typename TI, typename TO>
void cast(const TI* a, TO* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = from_float<TO>(to_float(a[i]));
}

// y[r, :] = x[r, begin:end] for x of width `width`.
template <typename T>
void slice_last(const T* x, T* y, int64_t rows, int64_t width, int64_t begin, int64_t end) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(y + r * (end - begin), x + r * width + begin, sizeof(T) * (end - begin));
}

#if defined(__AVX512F__)
// SwiGLU on 16 lanes of f16: silu rounded to f16, times the up half, rounded to f16.
inline void swiglu16(const half* gate, const half* up, half* y) {
  const __m512 g = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gate)));
  const __m512 u = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(up)));
  const __m512 s = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(-g)));
  const __m512 s16 = _mm512_cvtph_ps(_mm512_cvtps_ph(s, _MM_FROUND_TO_NEAREST_INT));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y),
                      _mm512_cvtps_ph(_mm512_mul_ps(s16, u), _MM_FROUND_TO_NEAREST_INT));
}
#endif

// y[r, i] = act(x[r, i]) * x[r, half + i] (SwiGLU, GeGLU); the activation is rounded to T before
// the product, as separate activation and multiply ops would.
template <typename T>
void gated_activation(Activation act, const T* x, T* y, int64_t rows, int64_t half_width) {
  parallel_for(rows, rows * half_width * 8, [&](int64_t r) {
    int64_t i = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, half>) {
      if (act == Activation::kSilu)
        for (; i + 16 <= half_width; i += 16)
          swiglu16(x + r * 2 * half_width + i, x + r * 2 * half_width + half_width + i,
                   y + r * half_width + i);
    }
#endif
    for (; i < half_width; ++i) {
      float g = round_to<T>(activate(act, to_float(x[r * 2 * half_width + i])));
      y[r * half_width + i] = from_float<T>(g * to_float(x[r * 2 * half_width + half_width + i]));
    }
  });
}

template <typename T>
void swiglu(const T* x, T* y, int64_t rows, int64_t half_width) {
  gated_activation(Activation::kSilu, x, y, rows, half_width);
}

}  // namespace llmcc::cpu_kernels
