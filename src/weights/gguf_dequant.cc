// ggml's block formats, dequantized to f32. Each block is decoded as ggml-common.h lays it out:
//   Q4_0 {f16 d; u8 qs[16]}                  x = (nibble - 8) d; low nibbles are values 0-15
//   Q4_1 {f16 d, m; u8 qs[16]}               x = nibble d + m
//   Q5_0 {f16 d; u8 qh[4]; u8 qs[16]}        5th bit from qh; x = (q - 16) d
//   Q5_1 {f16 d, m; u8 qh[4]; u8 qs[16]}     x = q d + m
//   Q8_0 {f16 d; i8 qs[32]}                  x = q d
//   Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]}            8 x 32, 6-bit scales and mins
//   Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}
//   Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}       16 x 16, x = (q - 32) d scale
#include <cstring>

#include "kernels/cpu/common.h"
#include "support/error.h"
#include "weights/gguf.h"

namespace llmcc {

namespace {

using cpu_kernels::bfloat16;
using cpu_kernels::half;
using cpu_kernels::to_float;

float f16_at(const uint8_t* p) {
  half h;
  std::memcpy(&h, p, 2);
  return to_float(h);
}

void q4_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = ((b[2 + j] & 0x0F) - 8) * d;
    y[j + 16] = ((b[2 + j] >> 4) - 8) * d;
  }
}

void q4_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = (b[4 + j] & 0x0F) * d + m;
    y[j + 16] = (b[4 + j] >> 4) * d + m;
  }
}

void q5(const uint8_t* b, float* y, bool with_min) {
  const float d = f16_at(b), m = with_min ? f16_at(b + 2) : 0.0f;
  const uint8_t* qhp = b + (with_min ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, qhp, 4);
  const uint8_t* qs = qhp + 4;
  const int offset = with_min ? 0 : 16;
  for (int j = 0; j < 16; ++j) {
    const int hi0 = ((qh >> j) << 4) & 0x10;
    const int hi1 = (qh >> (j + 12)) & 0x10;
    y[j] = (((qs[j] & 0x0F) | hi0) - offset) * d + m;
    y[j + 16] = (((qs[j] >> 4) | hi1) - offset) * d + m;
  }
}

void q8_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<int8_t>(b[2 + j]) * d;
}

// The 6-bit scale and min of sub-block j in a K-quant's 12 packed bytes.
void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void q4_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
    int sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) y[j + l] = d1 * (q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) y[j + 32 + l] = d2 * (q[l] >> 4) - m2;
  }
}

void q5_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    int sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) y[j + l] = d1 * ((ql[l] & 0x0F) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) y[j + 32 + l] = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
  }
}

void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16_at(b + 208);
  for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = static_cast<int>((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = static_cast<int>((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = static_cast<int>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = static_cast<int>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[n + l] = d * sc[is] * q1;
      y[n + l + 32] = d * sc[is + 2] * q2;
      y[n + l + 64] = d * sc[is + 4] * q3;
      y[n + l + 96] = d * sc[is + 6] * q4;
    }
  }
}

}  // namespace

void dequantize_gguf_tensor(const GgufTensor& t, float* out) {
  const auto [block, bytes] = ggml_block_layout(static_cast<uint32_t>(t.type));
  const int64_t blocks = t.elements() / block;
  for (int64_t i = 0; i < blocks; ++i) {
    const uint8_t* b = t.data + i * bytes;
    float* y = out + i * block;
    switch (t.type) {
      case GgmlType::kF32:
        std::memcpy(y, b, 4);
        break;
      case GgmlType::kF16:
        *y = f16_at(b);
        break;
      case GgmlType::kBF16: {
        bfloat16 v;
        std::memcpy(&v, b, 2);
        *y = to_float(v);
        break;
      }
      case GgmlType::kQ4_0:
        q4_0(b, y);
        break;
      case GgmlType::kQ4_1:
        q4_1(b, y);
        break;
      case GgmlType::kQ5_0:
        q5(b, y, false);
        break;
      case GgmlType::kQ5_1:
        q5(b, y, true);
        break;
      case GgmlType::kQ8_0:
        q8_0(b, y);
        break;
      case GgmlType::kQ4_K:
        q4_k(b, y);
        break;
      case GgmlType::kQ5_K:
        q5_k(b, y);
        break;
      case GgmlType::kQ6_K:
        q6_k(b, y);
        break;
    }
  }
}

}  // namespace llmcc
