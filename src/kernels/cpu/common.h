// Shared pieces of the CPU kernels: element types, conversions and error reporting. Kernels are
// compiled into each model library (inside an anonymous namespace there), so they depend on
// nothing but the C++ standard library and the ABI header.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "thread_pool.h"
#if defined(__F16C__) || defined(__AVX2__) || defined(__FMA__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace llmcc::cpu_kernels {

struct half {
  uint16_t bits;
};
struct bfloat16 {
  uint16_t bits;
};

inline float to_float(float x) { return x; }

inline float to_float(half h) {
#if defined(__F16C__)
  return _cvtsh_ss(h.bits);
#else
  uint32_t sign = (h.bits & 0x8000u) << 16, exp = (h.bits >> 10) & 0x1f, man = h.bits & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 112) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
#endif
}

inline float to_float(bfloat16 b) {
  uint32_t bits = static_cast<uint32_t>(b.bits) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
inline T from_float(float x);

template <>
inline float from_float<float>(float x) {
  return x;
}

template <>
inline half from_float<half>(float x) {
#if defined(__F16C__)
  return half{static_cast<uint16_t>(_cvtss_sh(x, 0))};
#else
  // Round to nearest even, with overflow to infinity and gradual underflow.
  uint32_t f;
  std::memcpy(&f, &x, 4);
  uint32_t sign = (f >> 16) & 0x8000u;
  uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u)
    return half{static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0))};
  if (abs >= 0x477ff000u) return half{static_cast<uint16_t>(sign | 0x7c00u)};
  if (abs < 0x38800000u) {  // subnormal or zero in half
    float a;
    std::memcpy(&a, &abs, 4);
    float scaled = a * 16777216.0f;  // 2^24: half subnormal unit
    uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));
    return half{static_cast<uint16_t>(sign | m)};
  }
  uint32_t mant = abs & 0x7fffffu, exp = (abs >> 23) - 112;
  uint32_t out = exp << 10 | mant >> 13;
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (out & 1u))) ++out;
  return half{static_cast<uint16_t>(sign | out)};
#endif
}

template <>
inline bfloat16 from_float<bfloat16>(float x) {
  uint32_t f;
  std::memcpy(&f, &x, 4);
  if ((f & 0x7fffffffu) > 0x7f800000u) return bfloat16{static_cast<uint16_t>((f >> 16) | 0x40u)};
  f += 0x7fffu + ((f >> 16) & 1u);  // round to nearest even
  return bfloat16{static_cast<uint16_t>(f >> 16)};
}

// Rounds through T: what storing a float in a T tensor does to it.
template <typename T>
inline float round_to(float x) {
  return to_float(from_float<T>(x));
}

// The epilogue of a linear layer for output (r, n) of an N-wide result, from its f32 dot product:
// + bias[n] in f32 (torch's addmm adds it before rounding), then rounded to TO and + residual[r, n]
// (a framework stores the matmul result before the residual add). Either pointer may be null.
template <typename TO>
inline TO linear_epilogue(float acc, const TO* bias, const TO* residual, int64_t r, int64_t n,
                          int64_t N) {
  if (bias) acc += to_float(bias[n]);
  if (residual) acc = round_to<TO>(acc) + to_float(residual[r * N + n]);
  return from_float<TO>(acc);
}

// The message behind a nonzero return, per thread.
inline char* error_buffer() {
  static thread_local char buffer[512];
  return buffer;
}

__attribute__((format(printf, 1, 2))) inline int fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(error_buffer(), 512, format, args);
  va_end(args);
  return 1;
}

}  // namespace llmcc::cpu_kernels
