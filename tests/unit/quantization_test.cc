// Group quantization: MLC's packing on hand-worked vectors, round-trip error on synthetic data,
// and the fused dequantizing kernels against dequantize-then-naive-matmul.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/quantized.h"
#include "quant/group_quantize.h"

namespace llmcc {
namespace {

using cpu_kernels::half;

TEST(GroupQuantize, Int4PackingByHand) {
  // One group of 32 with K = 8: scale = 7 / 7 = 1; codes = round-half-even(w + 7):
  // 14, 0, 10 (10.5), 4 (3.5), 8, 7, 8 (7.5), 6. Nibbles LSB first: 0x68784a0e; the rest of the
  // group (words 1-3) is zero padding.
  std::vector<float> w = {7, -7, 3.5f, -3.5f, 1, 0, 0.5f, -1};
  GroupQuantLayout L{4, 32, 1, 8};
  ASSERT_EQ(L.words_per_row(), 4);
  std::vector<uint32_t> q(4, 0xffffffffu);
  std::vector<float> s(1);
  group_quantize_rows(w.data(), L, 0, 1, q.data(), s.data());
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_EQ(q, (std::vector<uint32_t>{0x68784a0eu, 0, 0, 0}));
  EXPECT_EQ(group_dequantize(q.data(), s.data(), L, 0, 2), 3.0f);   // 10 - 7
  EXPECT_EQ(group_dequantize(q.data(), s.data(), L, 0, 3), -3.0f);  // 4 - 7
}

TEST(GroupQuantize, Int3PackingByHand) {
  // G = 40, 10 codes per word, max_int 3, scale 3 / 3 = 1; codes = round(w + 3):
  // 6 0 4 2 3 5 1 4 6 2 | 4 6  ->  word0 = sum c_r << 3r = 377926918, word1 = 4 | 6 << 3 = 52.
  std::vector<float> w = {3, -3, 1.5f, -1.5f, 0, 2, -2, 0.75f, 3, -0.5f, 1, 2.9f};
  GroupQuantLayout L{3, 40, 1, 12};
  ASSERT_EQ(L.words_per_row(), 4);
  std::vector<uint32_t> q(4);
  std::vector<float> s(1);
  group_quantize_rows(w.data(), L, 0, 1, q.data(), s.data());
  EXPECT_EQ(q, (std::vector<uint32_t>{377926918u, 52u, 0, 0}));
}

TEST(GroupQuantize, KNotDivisibleByGroup) {
  // K = 40 with G = 32: two groups, the second holding 8 values; each has its own scale.
  std::vector<float> w(40);
  for (int k = 0; k < 40; ++k) w[k] = k < 32 ? 0.5f * (k % 15 - 7) : 14.0f * ((k % 2) ? 1 : -1);
  GroupQuantLayout L{4, 32, 1, 40};
  ASSERT_EQ(L.num_groups(), 2);
  ASSERT_EQ(L.words_per_row(), 8);
  std::vector<uint32_t> q(8);
  std::vector<float> s(2);
  group_quantize_rows(w.data(), L, 0, 1, q.data(), s.data());
  EXPECT_EQ(s[0], 0.5f);
  EXPECT_EQ(s[1], 2.0f);
  for (int k = 0; k < 40; ++k) EXPECT_EQ(group_dequantize(q.data(), s.data(), L, 0, k), w[k]) << k;
  for (int j = 5; j < 8; ++j) EXPECT_EQ(q[j], 0u) << "padding word " << j;
}

TEST(GroupQuantize, HalfArithmeticRoundsEachStep) {
  // In f16 the scale itself is rounded: max 1.0 / 7 = 0.142857 -> 0.14282 (f16), and
  // w / scale is rounded to f16 before the + max_int; codes stay in [0, 14].
  std::vector<half> w(32);
  for (int k = 0; k < 32; ++k) w[k] = cpu_kernels::from_float<half>(std::sin(0.7f * k));
  w[5] = cpu_kernels::from_float<half>(1.0f);
  GroupQuantLayout L{4, 32, 1, 32};
  std::vector<uint32_t> q(4);
  std::vector<half> s(1);
  group_quantize_rows(w.data(), L, 0, 1, q.data(), s.data());
  EXPECT_EQ(cpu_kernels::to_float(s[0]), cpu_kernels::round_to<half>(1.0f / 7.0f));
  for (int k = 0; k < 32; ++k) {
    float expected_t = cpu_kernels::round_to<half>(
        cpu_kernels::round_to<half>(cpu_kernels::to_float(w[k]) / cpu_kernels::to_float(s[0])) +
        7.0f);
    uint32_t code = (q[k / 8] >> ((k % 8) * 4)) & 15u;
    EXPECT_EQ(code,
              static_cast<uint32_t>(std::min(14.0f, std::max(0.0f, std::nearbyint(expected_t)))));
  }
}

TEST(GroupQuantize, AllZeroGroupDequantizesToZero) {
  std::vector<float> w(32, 0.0f);
  GroupQuantLayout L{4, 32, 1, 32};
  std::vector<uint32_t> q(4);
  std::vector<float> s(1);
  group_quantize_rows(w.data(), L, 0, 1, q.data(), s.data());
  for (int k = 0; k < 32; ++k) EXPECT_EQ(group_dequantize(q.data(), s.data(), L, 0, k), 0.0f);
}

// Round-trip error in the style of llama.cpp's test-quantize-fns: 4096 values of
// 0.1 + 2 cos(i), error = sqrt(sum (x - x')^2) / n. Its bounds are 0.002 for 4-bit and 0.004 for
// 3-bit schemes; ours are the same, plus 0.0002 for int8.
double round_trip_error(int bits, int group) {
  const int n = 4096;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i));
  GroupQuantLayout L{bits, group, 1, n};
  std::vector<uint32_t> q(L.words_per_row());
  std::vector<float> s(L.num_groups());
  group_quantize_rows(x.data(), L, 0, 1, q.data(), s.data());
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double d = x[i] - group_dequantize(q.data(), s.data(), L, 0, i);
    sum += d * d;
  }
  return std::sqrt(sum) / n;
}

TEST(GroupQuantize, RoundTripErrorWithinLlamaCppStyleBounds) {
  double e4 = round_trip_error(4, 32), e3 = round_trip_error(3, 40), e8 = round_trip_error(8, 32);
  std::printf("round-trip error: int4/32 %.6f, int3/40 %.6f, int8/32 %.6f\n", e4, e3, e8);
  EXPECT_LT(e4, 0.002);
  EXPECT_LT(e3, 0.004);
  EXPECT_LT(e8, 0.0002);
  EXPECT_LT(e8, e4);
  EXPECT_LT(e4, e3);
}

// ---- Fused kernels vs dequantize-then-naive-matmul ----

constexpr float kGuard = -777.0f;

template <int BITS, int G>
void check_linear_q(int64_t rows, int64_t N, int64_t K, bool transposed, bool residual) {
  std::mt19937 rng(static_cast<uint32_t>(rows * 1000 + N * 10 + K));
  std::normal_distribution<float> dist(0, 1);
  std::vector<half> w(N * K);
  for (auto& v : w) v = cpu_kernels::from_float<half>(dist(rng));
  GroupQuantLayout L{BITS, G, N, K};
  std::vector<uint32_t> q(N * L.words_per_row());
  std::vector<half> s(N * L.num_groups());
  group_quantize_rows(w.data(), L, 0, N, q.data(), s.data());
  std::vector<float> x(rows * K), res(rows * N);
  for (auto& v : x) v = dist(rng);
  for (auto& v : res) v = dist(rng);
  // Reference: dequantize everything, then a plain double matmul.
  std::vector<double> ref(rows * N);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double acc = residual ? res[r * N + n] : 0.0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(x[r * K + k]) * group_dequantize(q.data(), s.data(), L, n, k);
      ref[r * N + n] = acc;
    }
  std::vector<uint32_t> qk = q;
  std::vector<half> sk = s;
  if (transposed) {  // MLC's KN layout
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t j = 0; j < L.words_per_row(); ++j) qk[j * N + n] = q[n * L.words_per_row() + j];
      for (int64_t g = 0; g < L.num_groups(); ++g) sk[g * N + n] = s[n * L.num_groups() + g];
    }
  }
  std::vector<float> y(rows * N + 32, kGuard);
  cpu_kernels::linear_q<BITS, G>(x.data(), qk.data(), sk.data(), residual ? res.data() : nullptr,
                                 y.data() + 16, rows, N, K, transposed);
  double num = 0, den = 0;
  for (int64_t i = 0; i < rows * N; ++i) {
    num += (ref[i] - y[16 + i]) * (ref[i] - y[16 + i]);
    den += ref[i] * ref[i];
  }
  EXPECT_LT(num / den, 1e-10) << BITS << "-bit " << rows << "x" << N << "x" << K
                              << (transposed ? " KN" : " NK");
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(y[i], kGuard);
    EXPECT_EQ(y[16 + rows * N + i], kGuard);
  }
}

TEST(LinearQ, MatchesDequantizedNaiveMatmulOnOddShapes) {
  for (bool kn : {false, true})
    for (bool res : {false, true})
      for (auto [rows, N, K] : std::vector<std::tuple<int, int, int>>{
               {1, 1, 8}, {1, 7, 40}, {3, 13, 72}, {5, 33, 100}}) {
        check_linear_q<4, 32>(rows, N, K, kn, res);
        check_linear_q<3, 40>(rows, N, K, kn, res);
        check_linear_q<8, 32>(rows, N, K, kn, res);
      }
}

TEST(TakeQ, MatchesDequantizedRows) {
  const int64_t V = 11, K = 50;
  std::vector<float> w(V * K);
  for (int64_t i = 0; i < V * K; ++i) w[i] = std::sin(0.37f * i);
  GroupQuantLayout L{4, 32, V, K};
  std::vector<uint32_t> q(V * L.words_per_row());
  std::vector<float> s(V * L.num_groups());
  group_quantize_rows(w.data(), L, 0, V, q.data(), s.data());
  std::vector<int32_t> ids = {10, 0, 3};
  std::vector<float> out(3 * K + 32, kGuard);
  ASSERT_EQ((cpu_kernels::take_q<4, 32>(q.data(), s.data(), ids.data(), out.data() + 16, 3, K, V)),
            0);
  for (int i = 0; i < 3; ++i)
    for (int64_t k = 0; k < K; ++k)
      EXPECT_EQ(out[16 + i * K + k], group_dequantize(q.data(), s.data(), L, ids[i], k));
  EXPECT_EQ(out[15], kGuard);
  EXPECT_EQ(out[16 + 3 * K], kGuard);
  ids[1] = 11;
  EXPECT_NE((cpu_kernels::take_q<4, 32>(q.data(), s.data(), ids.data(), out.data() + 16, 3, K, V)),
            0);
}

}  // namespace
}  // namespace llmcc
