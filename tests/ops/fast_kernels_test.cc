// The SIMD kernels (AVX2, and AVX-512 VNNI where the compiler targets it; aarch64's NEON and
// dotprod) against naive references. This file is compiled with -mavx2 -mfma -mf16c and with
// -march=native, so both x86 paths are checked on a machine that has both, and for aarch64 with
// +dotprod, run under qemu.
#include <gtest/gtest.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include <random>

#include "kernels/cpu/all.h"
#include "quant/group_quantize.h"

namespace llmcc::cpu_kernels {
namespace {

bool cpu_has_compiled_features() {
#if defined(__aarch64__)
#if defined(__ARM_FEATURE_DOTPROD)
  return getauxval(AT_HWCAP) & (1ul << 20);  // HWCAP_ASIMDDP
#else
  return true;  // NEON is the baseline
#endif
#else
#if defined(__AVX512VNNI__)
  if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) return false;
#endif
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#endif
}

constexpr float kGuard = -555.0f;

// linear_q's fast path quantizes activations to int8 per group of 32 (like llama.cpp's q8_0),
// which costs about (1/127)^2 / 12 relative error per product: NMSE well under 1e-4 once a
// case has a handful of outputs (a single short dot product can cancel to a tiny value).
// `tile_columns` 8 or 16: the int4 weights repacked into tiles of that many columns
// (int4_tiles.h, int4_tiles_vnni.h) instead of MLC's layout.
template <int BITS>
void check(int64_t rows, int64_t N, int64_t K, bool residual, int tile_columns = 0) {
  const bool tiled = tile_columns != 0;
  std::mt19937 rng(static_cast<uint32_t>(rows * 7919 + N * 31 + K));
  std::normal_distribution<float> dist(0, 1);
  std::vector<half> w(N * K);
  for (auto& v : w) v = from_float<half>(dist(rng));
  GroupQuantLayout L{BITS, 32, N, K};
  std::vector<uint32_t> q(N * L.words_per_row());
  std::vector<half> s(N * L.num_groups());
  group_quantize_rows(w.data(), L, 0, N, q.data(), s.data());
  std::vector<half> x(rows * K);
  std::vector<float> res(rows * N);
  for (auto& v : x) v = from_float<half>(dist(rng));
  for (auto& v : res) v = dist(rng);
  std::vector<double> ref(rows * N);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(to_float(x[r * K + k])) * group_dequantize(q.data(), s.data(), L, n, k);
      ref[r * N + n] = acc + (residual ? round_to<half>(res[r * N + n]) : 0.0);
    }
  std::vector<half> res_h(rows * N);
  for (size_t i = 0; i < res.size(); ++i) res_h[i] = from_float<half>(res[i]);
  std::vector<half> y(rows * N + 32, from_float<half>(kGuard));
  if (tiled) {
    // Guard bytes after the packed tiles catch a kernel that reads past its weights' end.
    const int64_t bytes = int4_tile_bytes(N, L.num_groups(), tile_columns);
    std::vector<uint8_t> tiles(bytes + 64, 0xA5);
    pack_int4_tiles(q.data(), reinterpret_cast<const uint16_t*>(s.data()), N, L.num_groups(),
                    tile_columns, tiles.data());
    for (int i = 0; i < 64; ++i) ASSERT_EQ(tiles[bytes + i], 0xA5) << "pack wrote past its end";
#if defined(__AVX2__)
    const half* r = residual ? res_h.data() : nullptr;
    if (tile_columns == 8) linear_int4_tile8(x.data(), tiles.data(), r, y.data() + 16, rows, N, K);
#endif
#if defined(LLMCC_HAVE_VNNI512)
    if (tile_columns == 16)
      linear_int4_tile16(x.data(), tiles.data(), r, y.data() + 16, rows, N, K);
#endif
  } else {
    linear_q<BITS, 32>(x.data(), q.data(), s.data(), residual ? res_h.data() : nullptr,
                       y.data() + 16, rows, N, K, false);
  }
  double num = 0, den = 0;
  for (int64_t i = 0; i < rows * N; ++i) {
    double d = ref[i] - to_float(y[16 + i]);
    num += d * d;
    den += ref[i] * ref[i];
  }
  EXPECT_LT(num / den, 1e-4) << BITS << "-bit tile" << tile_columns << " " << rows << "x" << N
                             << "x" << K;
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(to_float(y[i]), kGuard);
    EXPECT_EQ(to_float(y[16 + rows * N + i]), kGuard);
  }
}

TEST(Int8DotKernels, MatchNaiveOnOddShapes) {
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  // K from below one group to many groups, including odd group counts (a lone last group),
  // counts that are not multiples of 4, 8 or 16, and row counts around the 4-row tile. From 8
  // rows the int4 path runs 16-column tiles (partial quads of groups, columns past the last tile
  // left to the row kernel).
  for (auto [rows, N, K] : std::vector<std::tuple<int, int, int>>{{2, 4, 16},
                                                                  {1, 3, 32},
                                                                  {2, 5, 64},
                                                                  {3, 7, 96},
                                                                  {4, 9, 160},
                                                                  {5, 65, 200},
                                                                  {7, 130, 544},
                                                                  {1, 64, 1000},
                                                                  {9, 3, 2048},
                                                                  {8, 16, 16},
                                                                  {8, 16, 32},
                                                                  {9, 70, 200},
                                                                  {16, 130, 544},
                                                                  {17, 48, 96},
                                                                  {33, 80, 1000}})
    for (bool residual : {false, true}) {
      check<4>(rows, N, K, residual);
      check<8>(rows, N, K, residual);
#if defined(__AVX2__)
      check<4>(rows, N, K, residual, /*tile_columns=*/8);
#endif
#if defined(LLMCC_HAVE_VNNI512)
      check<4>(rows, N, K, residual, /*tile_columns=*/16);
#endif
    }
}

TEST(Int4TileLayout, PacksEachColumnsNibblesAndScaleIntoItsBlock) {
  // Independent of the kernels: every nibble byte and scale lands where int4_tile_layout.h says,
  // and the columns past N in the last tile are zero, for both tile widths.
  for (int64_t C : {8, 16}) {
    const int64_t N = C + 3, groups = 3;
    std::vector<uint32_t> q(N * groups * 4);
    std::vector<uint16_t> s(N * groups);
    for (size_t i = 0; i < q.size(); ++i) q[i] = 0x01020304u * static_cast<uint32_t>(i + 1);
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint16_t>(1000 + i);
    std::vector<uint8_t> out(int4_tile_bytes(N, groups, C));
    ASSERT_EQ(out.size(), static_cast<size_t>(2 * groups * 18 * C));
    pack_int4_tiles(q.data(), s.data(), N, groups, C, out.data());
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(q.data());
    for (int64_t n = 0; n < 2 * C; ++n)
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* block = out.data() + ((n / C) * groups + g) * 18 * C;
        for (int64_t b = 0; b < 16; ++b) {
          const uint8_t got = block[(b / 4) * 4 * C + (n % C) * 4 + b % 4];
          ASSERT_EQ(got, n < N ? bytes[n * groups * 16 + g * 16 + b] : 0)
              << C << ": " << n << " " << g << " " << b;
        }
        uint16_t scale;
        std::memcpy(&scale, block + 16 * C + (n % C) * 2, 2);
        ASSERT_EQ(scale, n < N ? s[n * groups + g] : 0) << C << ": " << n << " " << g;
      }
  }
}

// The prefix cache and batched decode rely on this: a row computed in a batch is bit-identical
// to the same row computed alone.
void expect_rows_independent_of_batch(int64_t C, int64_t rows, int64_t N, int64_t K) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0, 1);
  std::vector<half> w(N * K);
  for (auto& v : w) v = from_float<half>(dist(rng));
  GroupQuantLayout L{4, 32, N, K};
  std::vector<uint32_t> q(N * L.words_per_row());
  std::vector<half> s(N * L.num_groups());
  group_quantize_rows(w.data(), L, 0, N, q.data(), s.data());
  std::vector<uint8_t> tiles(int4_tile_bytes(N, L.num_groups(), C));
  pack_int4_tiles(q.data(), reinterpret_cast<const uint16_t*>(s.data()), N, L.num_groups(), C,
                  tiles.data());
  std::vector<float> x(rows * K), batched(rows * N), alone(N);
  for (auto& v : x) v = dist(rng);
  auto run = [&](const float* xs, float* ys, int64_t n_rows) {
#if defined(__AVX2__)
    if (C == 8)
      linear_int4_tile8(xs, tiles.data(), static_cast<const float*>(nullptr), ys, n_rows, N, K);
#endif
#if defined(LLMCC_HAVE_VNNI512)
    if (C == 16)
      linear_int4_tile16(xs, tiles.data(), static_cast<const float*>(nullptr), ys, n_rows, N, K);
#endif
  };
  run(x.data(), batched.data(), rows);
  for (int64_t r = 0; r < rows; ++r) {
    run(x.data() + r * K, alone.data(), 1);
    for (int64_t n = 0; n < N; ++n)
      ASSERT_EQ(batched[r * N + n], alone[n]) << C << ": " << r << " " << n;
  }
}

TEST(Int4TileKernel, ARowsResultDoesNotDependOnItsBatch) {
#if defined(__AVX2__)
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  // 9 rows: two 4-row passes and a lone row, over tile pairs and an odd last tile.
  expect_rows_independent_of_batch(8, 9, 40, 320);
#else
  GTEST_SKIP() << "built without AVX2: the 8-column tile kernel is not compiled";
#endif
}

TEST(Int4Tile16Kernel, ARowsResultDoesNotDependOnItsBatch) {
#if defined(LLMCC_HAVE_VNNI512)
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  // 19 rows: two 8-row passes and a 3-row one, over a partial last tile.
  expect_rows_independent_of_batch(16, 19, 40, 320);
#else
  GTEST_SKIP() << "built without AVX-512 VNNI: the 16-column tile kernel is not compiled";
#endif
}

TEST(VectorGelu, MatchesTheErfFormWithinFloatPrecision) {
#if defined(__AVX512F__)
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  // Every 1/256 over [-13, 14] (down to where exp(-x^2 / 2) leaves f32's normal range, up to
  // where GELU is x), against 0.5 x (1 + erf(x / sqrt 2)) in double: a relative error within the
  // bound derived below (1.2e-7 near 0, 3.5e-6 at x = -5, 2e-5 at -13). torch's f32 GELU, with
  // erf rounded to f32, is 0 below x = -5.9.
  double worst = 0;
  for (int i = -13 * 256; i <= 14 * 256; i += 16) {
    alignas(64) float x[16], got[16];
    for (int l = 0; l < 16; ++l) x[l] = static_cast<float>(i + l) / 256.0f;
    _mm512_store_ps(got, gelu16(_mm512_load_ps(x)));
    for (int l = 0; l < 16; ++l) {
      // 1 + erf(v / sqrt 2) as erfc(-v / sqrt 2): in the negative tail 1 + erf cancels to 0.
      const double v = x[l], want = 0.5 * v * std::erfc(-v / std::sqrt(2.0));
      // The fit's 1.2e-7, and z^2 = x^2 / 2 rounded about 4 times (each 2^-24 relative) on its
      // way into exp, whose result moves by the exponent's absolute error: 4 eps (z^2 + 2).
      const double z2 = v * v / 2, bound = 1.2e-7 + 4 * 5.96e-8 * (z2 + 2);
      const double rel = std::abs(got[l] - want) / std::max(std::abs(want), 1e-30);
      EXPECT_LE(rel, bound) << x[l];
      worst = std::max(worst, rel / bound);
    }
  }
  std::printf("[gelu16] worst relative error %.2f of its bound\n", worst);
  // The activation kernel's masked tail gives the same bits as full vectors.
  std::vector<float> a(37), y(37 + 1, kGuard), full(48);
  for (int i = 0; i < 37; ++i) a[i] = 0.37f * i - 6.0f;
  activation(Activation::kGelu, a.data(), y.data(), 37);
  std::vector<float> padded(48, 0.0f);
  std::copy(a.begin(), a.end(), padded.begin());
  activation(Activation::kGelu, padded.data(), full.data(), 48);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(y[i], full[i]) << i;
  EXPECT_EQ(y[37], kGuard);
#else
  GTEST_SKIP() << "built without AVX-512: the vector GELU is not compiled";
#endif
}

TEST(VectorExp, StaysWithinTwoUlpOfExpf) {
#if defined(__AVX512F__)
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  // Every 1/64 from -104 (below expf's denormals) to 89 (past its overflow): saturation to 0
  // and inf where expf saturates, and at most 2 ulp elsewhere.
  int max_ulp = 0;
  for (int i = -104 * 64; i <= 89 * 64; i += 16) {
    alignas(64) float x[16], got[16];
    for (int l = 0; l < 16; ++l) x[l] = static_cast<float>(i + l) / 64.0f + 1e-3f * l;
    _mm512_store_ps(got, exp16(_mm512_load_ps(x)));
    for (int l = 0; l < 16; ++l) {
      const float want = std::exp(x[l]);
      if (std::isinf(want)) {
        ASSERT_EQ(got[l], want) << x[l];
        continue;
      }
      if (want < 1.1754944e-38f) {  // denormal or zero
        ASSERT_NEAR(got[l], want, 1e-38f) << x[l];
        continue;
      }
      int32_t a, b;
      std::memcpy(&a, &got[l], 4);
      std::memcpy(&b, &want, 4);
      max_ulp = std::max(max_ulp, std::abs(a - b));
    }
  }
  EXPECT_LE(max_ulp, 2);
#else
  GTEST_SKIP() << "built without AVX-512: the vector exp is not compiled";
#endif
}

TEST(GatedActivation, VectorSwigluMatchesTheScalarOne) {
  // The 16-lane SwiGLU against the scalar loop on the same f16 inputs (a width with a tail):
  // equal, or one f16 ulp apart where expf's last bit moves a rounding.
  const int64_t rows = 3, width = 37;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0, 4);
  std::vector<half> x(rows * 2 * width), y(rows * width), want(rows * width);
  for (auto& v : x) v = from_float<half>(dist(rng));
  gated_activation(Activation::kSilu, x.data(), y.data(), rows, width);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < width; ++i) {
      const float g = round_to<half>(silu(to_float(x[r * 2 * width + i])));
      want[r * width + i] = from_float<half>(g * to_float(x[r * 2 * width + width + i]));
    }
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_LE(std::abs(int(y[i].bits) - int(want[i].bits)), 1) << i;
}

TEST(F16Gemv, DirectHalfDotMatchesNaive) {
  if (!cpu_has_compiled_features())
    GTEST_SKIP() << "CPU lacks the features this test was built for";
  for (auto [rows, N, K] :
       std::vector<std::tuple<int, int, int>>{{1, 5, 7}, {1, 33, 200}, {2, 9, 1001}, {5, 3, 64}}) {
    std::mt19937 rng(K);
    std::normal_distribution<float> dist(0, 1);
    std::vector<half> w(N * K);
    for (auto& v : w) v = from_float<half>(dist(rng));
    std::vector<float> x(rows * K), y(rows * N + 32, kGuard);
    for (auto& v : x) v = dist(rng);
    linear(x.data(), w.data(), static_cast<const float*>(nullptr), y.data() + 16, rows, N, K);
    double num = 0, den = 0;
    for (int r = 0; r < rows; ++r)
      for (int n = 0; n < N; ++n) {
        double ref = 0;
        for (int k = 0; k < K; ++k) ref += double(x[r * K + k]) * to_float(w[n * K + k]);
        num += (ref - y[16 + r * N + n]) * (ref - y[16 + r * N + n]);
        den += ref * ref;
      }
    EXPECT_LT(num / den, 1e-10) << rows << "x" << N << "x" << K;
    EXPECT_EQ(y[15], kGuard);
    EXPECT_EQ(y[16 + rows * N], kGuard);
  }
}

TEST(Int8DotKernels, ActivationQuantizationRoundTrips) {
  std::vector<float> x(100);
  for (int i = 0; i < 100; ++i) x[i] = std::sin(0.3f * i) * (i % 7 + 1);
  Int8Activations a;
  for (bool nibble : {false, true}) {
    quantize_activations(x.data(), 1, 100, nibble, a);
    ASSERT_EQ(a.groups, 4);
    for (int k = 0; k < 100; ++k) {
      const int64_t g = k / 32, i = k % 32;
      const int64_t at = nibble ? (g / 4) * 128 + (i % 2) * 64 + (g % 4) * 16 + i / 2 : k;
      const float d = a.scale[g];
      EXPECT_NEAR(a.q[at] * d, x[k], 0.5f * d + 1e-6f) << k;
    }
  }
}

}  // namespace
}  // namespace llmcc::cpu_kernels
