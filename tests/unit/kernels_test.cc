// CPU kernels against naive double-precision references: odd shapes, NMSE bounds, guard bytes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/cpu/all.h"

namespace llmcc::cpu_kernels {
namespace {

constexpr float kGuard = 1234.5f;

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

double nmse(const std::vector<double>& ref, const float* got, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (ref[i] - got[i]) * (ref[i] - got[i]);
    den += ref[i] * ref[i];
  }
  return den == 0 ? num : num / den;
}

// A buffer of n floats with guard values on both sides that must survive the kernel.
struct Guarded {
  explicit Guarded(size_t n) : data(n + 32, kGuard), size(n) {}
  float* out() { return data.data() + 16; }
  bool guards_intact() const {
    for (size_t i = 0; i < 16; ++i)
      if (data[i] != kGuard || data[16 + size + i] != kGuard) return false;
    return true;
  }
  std::vector<float> data;
  size_t size;
};

TEST(Half, RoundTripsEveryFiniteValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    half h{static_cast<uint16_t>(bits)};
    float f = to_float(h);
    if (std::isnan(f)) continue;
    EXPECT_EQ(from_float<half>(f).bits, bits) << std::hex << bits;
  }
  EXPECT_EQ(from_float<half>(1.0f).bits, 0x3c00);
  EXPECT_EQ(from_float<half>(65504.0f).bits, 0x7bff);
  EXPECT_EQ(from_float<half>(1e6f).bits, 0x7c00);                // overflow to infinity
  EXPECT_EQ(from_float<half>(1.0f + 1.0f / 2048).bits, 0x3c00);  // tie rounds to even
  EXPECT_EQ(from_float<half>(1.0f + 3.0f / 2048).bits, 0x3c02);
  EXPECT_EQ(from_float<half>(5.9604645e-08f).bits, 0x0001);  // smallest subnormal
  EXPECT_EQ(from_float<bfloat16>(1.0f).bits, 0x3f80);
  EXPECT_EQ(from_float<bfloat16>(1.00390625f).bits, 0x3f80);  // tie to even
  EXPECT_EQ(to_float(bfloat16{0x4049}), 3.140625f);
}

template <typename TW>
void check_linear(int64_t rows, int64_t N, int64_t K, bool with_residual) {
  auto x = random_vector(rows * K, 1);
  auto w32 = random_vector(N * K, 2, 0.2f);
  auto res = random_vector(rows * N, 3);
  std::vector<TW> w(N * K);
  for (size_t i = 0; i < w.size(); ++i) w[i] = from_float<TW>(w32[i]);
  std::vector<double> ref(rows * N);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += double(x[r * K + k]) * to_float(w[n * K + k]);
      ref[r * N + n] = acc + (with_residual ? res[r * N + n] : 0.0);
    }
  Guarded y(rows * N);
  linear(x.data(), w.data(), with_residual ? res.data() : nullptr, y.out(), rows, N, K);
  EXPECT_LT(nmse(ref, y.out(), rows * N), 1e-10) << rows << "x" << N << "x" << K;
  EXPECT_TRUE(y.guards_intact());
}

TEST(Linear, MatchesNaiveOnOddShapes) {
  for (auto [rows, N, K] : std::vector<std::tuple<int, int, int>>{{1, 1, 1},
                                                                  {1, 7, 33},
                                                                  {3, 65, 72},
                                                                  {5, 13, 127},
                                                                  {17, 31, 64},
                                                                  {9, 40, 385},
                                                                  {4, 16, 16}})
    for (bool residual : {false, true}) {
      check_linear<float>(rows, N, K, residual);
      check_linear<half>(rows, N, K, residual);
      check_linear<bfloat16>(rows, N, K, residual);
    }
}

// A row's outputs are the same bits whatever the call's row count and the row's place in it: the
// register tiles and the remainder path sum in one order (f32_tile.h), so a sequence decodes to
// the same logits alone or in a batch.
template <typename TW>
void check_rows_independent(int64_t N, int64_t K) {
  const int64_t rows = 11;  // two full tiles of 4 and a remainder of 3
  auto x = random_vector(rows * K, 7);
  auto w32 = random_vector(N * K, 8, 0.2f);
  std::vector<TW> w(N * K);
  for (size_t i = 0; i < w.size(); ++i) w[i] = from_float<TW>(w32[i]);
  std::vector<float> all(rows * N), one(N);
  linear(x.data(), w.data(), static_cast<const float*>(nullptr), all.data(), rows, N, K);
  for (int64_t r = 0; r < rows; ++r) {
    linear(x.data() + r * K, w.data(), static_cast<const float*>(nullptr), one.data(), 1, N, K);
    for (int64_t n = 0; n < N; ++n)
      ASSERT_EQ(one[n], all[r * N + n])
          << "row " << r << " column " << n << " of " << N << "x" << K;
  }
}

TEST(Linear, ARowsResultDoesNotDependOnTheRowCount) {
  for (auto [N, K] : std::vector<std::pair<int, int>>{{37, 100}, {16, 64}, {5, 15}}) {
    check_rows_independent<float>(N, K);
    check_rows_independent<half>(N, K);
    check_rows_independent<bfloat16>(N, K);
  }
}

TEST(RmsNorm, MatchesNaive) {
  for (auto [rows, H] : std::vector<std::pair<int, int>>{{1, 1}, {3, 72}, {4, 129}}) {
    auto x = random_vector(rows * H, 4), w = random_vector(H, 5);
    std::vector<double> ref(rows * H);
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int i = 0; i < H; ++i) ss += double(x[r * H + i]) * x[r * H + i];
      double inv = 1.0 / std::sqrt(ss / H + 1e-5);
      for (int i = 0; i < H; ++i) ref[r * H + i] = x[r * H + i] * inv * w[i];
    }
    Guarded y(rows * H);
    rms_norm(x.data(), w.data(), y.out(), rows, H, 1e-5f);
    EXPECT_LT(nmse(ref, y.out(), rows * H), 1e-12);
    EXPECT_TRUE(y.guards_intact());
  }
}

TEST(Swiglu, MatchesNaive) {
  const int rows = 3, I = 37;
  auto x = random_vector(rows * 2 * I, 6);
  std::vector<double> ref(rows * I);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < I; ++i) {
      double g = x[r * 2 * I + i];
      ref[r * I + i] = g / (1 + std::exp(-g)) * x[r * 2 * I + I + i];
    }
  Guarded y(rows * I);
  swiglu(x.data(), y.out(), rows, I);
  EXPECT_LT(nmse(ref, y.out(), rows * I), 1e-12);
  EXPECT_TRUE(y.guards_intact());
}

// Gemma's RMSNorm: (1 + w) in f32 with one rounding. In f16 that is closer to the exact value than
// Llama's rounding of the normalised value before the weight, and the two differ.
TEST(RmsNorm, GemmaVariantMatchesNaiveAndRoundsOnce) {
  const int rows = 3, H = 45;
  auto x = random_vector(rows * H, 21, 3.0f), w = random_vector(H, 22, 0.5f);
  std::vector<double> ref(rows * H);
  for (int r = 0; r < rows; ++r) {
    double ss = 0;
    for (int i = 0; i < H; ++i) ss += double(x[r * H + i]) * x[r * H + i];
    double inv = 1.0 / std::sqrt(ss / H + 1e-6);
    for (int i = 0; i < H; ++i) ref[r * H + i] = x[r * H + i] * inv * (1.0 + w[i]);
  }
  Guarded y(rows * H);
  rms_norm(x.data(), w.data(), y.out(), rows, H, 1e-6f, 1.0f, false);
  EXPECT_LT(nmse(ref, y.out(), rows * H), 1e-12);
  EXPECT_TRUE(y.guards_intact());

  std::vector<half> xh(rows * H), wh(H), once(rows * H), twice(rows * H);
  for (int i = 0; i < rows * H; ++i) xh[i] = from_float<half>(x[i]);
  for (int i = 0; i < H; ++i) wh[i] = from_float<half>(w[i]);
  rms_norm(xh.data(), wh.data(), once.data(), rows, H, 1e-6f, 1.0f, false);
  rms_norm(xh.data(), wh.data(), twice.data(), rows, H, 1e-6f, 1.0f, true);
  double err_once = 0, err_twice = 0;
  int differ = 0;
  for (int r = 0; r < rows; ++r) {
    double ss = 0;
    for (int i = 0; i < H; ++i) ss += double(to_float(xh[r * H + i])) * to_float(xh[r * H + i]);
    double inv = 1.0 / std::sqrt(ss / H + 1e-6);
    for (int i = 0; i < H; ++i) {
      double exact = to_float(xh[r * H + i]) * inv * (1.0 + to_float(wh[i]));
      err_once += std::abs(to_float(once[r * H + i]) - exact);
      err_twice += std::abs(to_float(twice[r * H + i]) - exact);
      differ += to_float(once[r * H + i]) != to_float(twice[r * H + i]);
    }
  }
  EXPECT_GT(differ, 0);
  EXPECT_LT(err_once, err_twice);
}

TEST(LayerNorm, MatchesNaive) {
  for (int H : {1, 37, 64}) {
    const int rows = 3;
    auto x = random_vector(rows * H, 23, 2.0f), w = random_vector(H, 24), b = random_vector(H, 25);
    for (auto& v : x) v += 5.0f;  // an offset mean, which the centring must remove
    std::vector<double> ref(rows * H);
    for (int r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int i = 0; i < H; ++i) mean += x[r * H + i];
      mean /= H;
      for (int i = 0; i < H; ++i) var += (x[r * H + i] - mean) * (x[r * H + i] - mean);
      double inv = 1.0 / std::sqrt(var / H + 1e-5);
      for (int i = 0; i < H; ++i) ref[r * H + i] = (x[r * H + i] - mean) * inv * w[i] + b[i];
    }
    Guarded y(rows * H);
    layer_norm(x.data(), w.data(), b.data(), y.out(), rows, H, 1e-5f);
    EXPECT_LT(nmse(ref, y.out(), rows * H), 1e-10) << "H=" << H;
    EXPECT_TRUE(y.guards_intact());
  }
}

TEST(Activations, GeluBothFormsAndGatedMatchNaive) {
  const int rows = 3, I = 41;
  auto x = random_vector(rows * 2 * I, 26, 4.0f);
  auto exact = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  auto approx = [](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  };
  for (auto [act, f] : {std::pair{Activation::kGelu, +exact}, {Activation::kGeluTanh, +approx}}) {
    std::vector<double> ref(x.size()), gated(rows * I);
    for (size_t i = 0; i < x.size(); ++i) ref[i] = f(x[i]);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < I; ++i) gated[r * I + i] = f(x[r * 2 * I + i]) * x[r * 2 * I + I + i];
    Guarded y(x.size()), g(rows * I);
    activation(act, x.data(), y.out(), static_cast<int64_t>(x.size()));
    gated_activation(act, x.data(), g.out(), rows, I);
    EXPECT_LT(nmse(ref, y.out(), x.size()), 1e-12);
    EXPECT_LT(nmse(gated, g.out(), rows * I), 1e-12);
    EXPECT_TRUE(y.guards_intact() && g.guards_intact());
  }
  // The two forms are different functions (by 4.1e-4 at v = 3).
  EXPECT_GT(std::abs(gelu(3.0f) - gelu_tanh(3.0f)), 2e-4);
}

// Far tails: GELU is the identity for large positive inputs and 0 for large negative ones, with
// no NaN from the exponential of -z^2 on any path.
TEST(Activations, GeluTailsStayFinite) {
  std::vector<float> x;
  for (float v : {1e30f, 1e8f, 1e7f, 3e5f, 50.0f, 12.0f}) x.insert(x.end(), {v, -v});
  x.resize(37, 1e7f);  // a full 16-lane vector and a masked tail
  for (Activation act : {Activation::kGelu, Activation::kGeluTanh}) {
    Guarded y(x.size());
    activation(act, x.data(), y.out(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(std::isfinite(y.out()[i])) << "x=" << x[i];
      if (x[i] > 0)
        EXPECT_NEAR(y.out()[i], x[i], 1e-6 * x[i]) << "x=" << x[i];
      else
        EXPECT_NEAR(y.out()[i], 0.0f, 1e-30) << "x=" << x[i];
    }
    EXPECT_TRUE(y.guards_intact());
  }
}

// The embedding scale is a tensor of the model dtype in transformers: sqrt(2048) = 45.2548...
// becomes 45.25 in f16 before the product.
TEST(Scale, RoundsTheFactorToTheModelDtype) {
  auto x = random_vector(64, 27);
  std::vector<half> xh(64), y(64);
  for (int i = 0; i < 64; ++i) xh[i] = from_float<half>(x[i]);
  scale(xh.data(), y.data(), 64, std::sqrt(2048.0f));
  int differ_from_unrounded = 0;
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(to_float(y[i]), round_to<half>(to_float(xh[i]) * 45.25f)) << i;
    differ_from_unrounded += to_float(y[i]) != round_to<half>(to_float(xh[i]) * std::sqrt(2048.0f));
  }
  EXPECT_GT(differ_from_unrounded, 0);
}

TEST(Rows, TakeAndGatherCheckIndices) {
  std::vector<float> table = {0, 1, 10, 11, 20, 21};
  std::vector<int32_t> ids = {2, 0};
  Guarded out(4);
  ASSERT_EQ(take(table.data(), ids.data(), out.out(), 2, 2, 3), 0);
  EXPECT_EQ(out.out()[0], 20);
  EXPECT_EQ(out.out()[3], 1);
  EXPECT_TRUE(out.guards_intact());
  ids[1] = 3;
  EXPECT_NE(take(table.data(), ids.data(), out.out(), 2, 2, 3), 0);
  EXPECT_NE(std::string(error_buffer()).find("token id 3"), std::string::npos);
  std::vector<int32_t> rows = {1};
  Guarded picked(2);
  ASSERT_EQ(gather_rows(table.data(), rows.data(), picked.out(), 1, 3, 1, 2), 0);
  EXPECT_EQ(picked.out()[0], 10);
  rows[0] = -1;
  EXPECT_NE(gather_rows(table.data(), rows.data(), picked.out(), 1, 3, 1, 2), 0);
}

// A naive RoPE: pairs (i, i + R/2) or (2i, 2i + 1) over the first R dims, in double.
struct NaiveRope {
  int mode = Rope::kRotateHalf;
  int64_t rotary_dim = 0;
  double theta = 10000.0, attention_factor = 1.0;
  void apply(const float* x, int64_t d, int64_t pos, std::vector<double>& out) const {
    out.assign(x, x + d);
    if (mode == Rope::kNone) return;
    const int64_t half = rotary_dim / 2;
    for (int64_t i = 0; i < half; ++i) {
      const double inv = 1.0 / std::pow(theta, double(2 * i) / rotary_dim);
      const double c = std::cos(pos * inv) * attention_factor;
      const double s = std::sin(pos * inv) * attention_factor;
      const int64_t a = mode == Rope::kInterleaved ? 2 * i : i;
      const int64_t b = mode == Rope::kInterleaved ? 2 * i + 1 : i + half;
      out[a] = x[a] * c - x[b] * s;
      out[b] = x[b] * c + x[a] * s;
    }
  }
};

// Naive attention for one sequence: rope on q and k, GQA, a causal (or full) softmax over the
// window, optional softcap.
std::vector<double> naive_attention(const std::vector<float>& qkv, int64_t n, int64_t hq,
                                    int64_t hkv, int64_t d, int64_t offset_positions,
                                    const std::vector<float>& past_qkv, const NaiveRope& rope,
                                    const AttentionMask& mask) {
  // Concatenate past rows (already in the cache) and new rows; positions start at 0.
  std::vector<float> all = past_qkv;
  all.insert(all.end(), qkv.begin(), qkv.end());
  const int64_t total = offset_positions + n, width = (hq + 2 * hkv) * d;
  std::vector<double> result(n * hq * d);
  for (int64_t t = 0; t < n; ++t) {
    const int64_t pos = offset_positions + t, last = mask.causal ? pos : total - 1;
    const int64_t first = mask.window > 0 ? std::max<int64_t>(0, pos - mask.window + 1) : 0;
    for (int64_t h = 0; h < hq; ++h) {
      std::vector<double> q, k;
      rope.apply(&all[pos * width + h * d], d, pos, q);
      int64_t kvh = h / (hq / hkv);
      std::vector<double> scores(last + 1, 0.0);
      double mx = -1e300;
      for (int64_t j = first; j <= last; ++j) {
        rope.apply(&all[j * width + (hq + kvh) * d], d, j, k);
        double s = 0;
        for (int64_t i = 0; i < d; ++i) s += q[i] * k[i];
        scores[j] = s / std::sqrt(double(d));
        if (mask.softcap > 0) scores[j] = mask.softcap * std::tanh(scores[j] / mask.softcap);
        mx = std::max(mx, scores[j]);
      }
      double sum = 0;
      for (int64_t j = first; j <= last; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
      for (int64_t i = 0; i < d; ++i) {
        double acc = 0;
        for (int64_t j = first; j <= last; ++j)
          acc += scores[j] * all[j * width + (hq + hkv + kvh) * d + i];
        result[(t * hq + h) * d + i] = acc / sum;
      }
    }
  }
  return result;
}

struct AttentionCase {
  const char* name;
  NaiveRope rope;
  AttentionMask mask;
  int64_t released_pages = 0;  // leading pages handed back before the last step (window only)
  int64_t head_dim = 24, page_size = 4, prefill = 7;
};

class AttentionVariants : public ::testing::TestWithParam<AttentionCase> {};

// Prefill (7 tokens by default), then decode 2 one at a time (positions 7 and 8, crossing into
// page 3 with pages of 4), over deliberately scattered pages, against the naive reference. Heads
// of 64 and more, pages of 16 and 32 (two 16-key blocks) and a head_dim that is not a multiple
// of 16 reach the AVX-512 block kernel where the build has it.
TEST_P(AttentionVariants, PagedPrefillThenDecodeMatchesNaive) {
  const AttentionCase& c = GetParam();
  const int64_t hq = 4, hkv = 2, d = c.head_dim, page_size = c.page_size, num_pages = 8, layers = 2,
                layer = 1;
  std::vector<float> storage(layers * num_pages * 2 * hkv * page_size * d, 0.0f);
  llmcc_kv_cache kv{};
  kv.storage = storage.data();
  kv.num_pages = num_pages;
  kv.page_size = page_size;
  kv.num_layers = layers;
  kv.num_kv_heads = hkv;
  kv.head_dim = d;
  kv.max_batch_size = 1;
  const int64_t needed = (c.prefill + 2 + page_size - 1) / page_size;
  ASSERT_LE(needed, num_pages);
  std::vector<int32_t> pages = {5, 2, 7, 0, 6, 1, 4, 3};
  pages.resize(needed);
  const int64_t width = (hq + 2 * hkv) * d;
  std::vector<float> inv(c.rope.rotary_dim / 2);
  for (size_t i = 0; i < inv.size(); ++i)
    inv[i] = 1.0f / std::pow(float(c.rope.theta), float(2 * i) / float(c.rope.rotary_dim));
  const Rope rope{
      c.rope.mode, c.rope.rotary_dim, inv.data(), nullptr, -1, float(c.rope.attention_factor)};
  const float scale = 1.0f / std::sqrt(float(d));

  std::vector<float> past;
  int64_t cached = 0;
  uint32_t seed = 10;
  for (int64_t n : {c.prefill, int64_t{1}, int64_t{1}}) {
    auto qkv = random_vector(n * width, seed++);
    std::vector<int32_t> qo = {0, static_cast<int32_t>(n)}, prev = {static_cast<int32_t>(cached)};
    // The last step sees its pages from `released_pages` on, as the runtime hands them over.
    const int32_t first =
        n == 1 && cached == c.prefill + 1 ? static_cast<int32_t>(c.released_pages) : 0;
    std::vector<int32_t> live(pages.begin() + first, pages.end()),
        indptr = {0, static_cast<int32_t>(needed) - first};
    kv.num_seqs = 1;
    kv.qo_indptr = qo.data();
    kv.prev_lengths = prev.data();
    kv.page_indptr = indptr.data();
    kv.page_indices = live.data();
    kv.first_pages = &first;
    Guarded out(n * hq * d);
    ASSERT_EQ(attention(qkv.data(), out.out(), &kv, n, layer, hq, hkv, d, scale, rope, c.mask), 0)
        << error_buffer();
    auto ref = naive_attention(qkv, n, hq, hkv, d, cached, past, c.rope, c.mask);
    EXPECT_LT(nmse(ref, out.out(), ref.size()), 1e-10) << "step with " << n << " tokens";
    EXPECT_TRUE(out.guards_intact());
    past.insert(past.end(), qkv.begin(), qkv.end());
    cached += n;
  }
  // Layer 0 was never written.
  for (int64_t i = 0; i < num_pages * 2 * hkv * page_size * d; ++i) ASSERT_EQ(storage[i], 0.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, AttentionVariants,
    ::testing::Values(
        AttentionCase{"rotate_half", {Rope::kRotateHalf, 24}, {}},
        AttentionCase{"partial_interleaved", {Rope::kInterleaved, 16, 500.0}, {}},
        AttentionCase{"partial_rotate_half_scaled", {Rope::kRotateHalf, 12, 10000.0, 1.19}, {}},
        AttentionCase{"no_rope", {Rope::kNone, 0}, {}},
        AttentionCase{"bidirectional", {Rope::kRotateHalf, 24}, {.causal = false}},
        AttentionCase{"softcap", {Rope::kRotateHalf, 24}, {.softcap = 0.5f}},
        // Window 3: position 8 sees 6..8, so page 0 (0..3) may be gone.
        AttentionCase{"window_with_released_page", {Rope::kRotateHalf, 24}, {.window = 3}, 1},
        AttentionCase{"head64_page16", {Rope::kRotateHalf, 64}, {}, 0, 64, 16},
        AttentionCase{"head64_page32_two_blocks", {Rope::kRotateHalf, 64}, {}, 0, 64, 32, 20},
        AttentionCase{"head40_window_in_second_block",
                      {Rope::kInterleaved, 40},
                      {.window = 5},
                      0,
                      40,
                      32,
                      20},
        AttentionCase{
            "head128_softcap", {Rope::kRotateHalf, 128}, {.softcap = 0.5f}, 0, 128, 16, 18},
        AttentionCase{"head136_rows", {Rope::kRotateHalf, 136}, {}, 0, 136, 16, 18}),
    [](const ::testing::TestParamInfo<AttentionCase>& info) { return info.param.name; });

TEST(Attention, RejectsBadBatches) {
  llmcc_kv_cache kv{};
  std::vector<float> storage(2 * 2 * 1 * 4 * 8);
  kv.storage = storage.data();
  kv.num_pages = 2;
  kv.page_size = 4;
  kv.num_layers = 1;
  kv.num_kv_heads = 1;
  kv.head_dim = 8;
  std::vector<float> qkv(5 * 24), out(5 * 8), inv(4, 1.0f);
  const Rope rope{Rope::kRotateHalf, 8, inv.data()};
  EXPECT_NE(attention(qkv.data(), out.data(), &kv, 5, 0, 1, 1, 8, 1.0f, rope), 0);  // no batch
  std::vector<int32_t> qo = {0, 5}, prev = {0}, indptr = {0, 1}, pages = {0};
  kv.num_seqs = 1;
  kv.qo_indptr = qo.data();
  kv.prev_lengths = prev.data();
  kv.page_indptr = indptr.data();
  kv.page_indices = pages.data();
  EXPECT_NE(attention(qkv.data(), out.data(), &kv, 5, 0, 1, 1, 8, 1.0f, rope), 0);  // 1 page < 5
  EXPECT_NE(std::string(error_buffer()).find("needs 5 slots"), std::string::npos);
  // A released page that the query still needs: no window, so position 0 is visible.
  std::vector<int32_t> two = {0, 1}, indptr1 = {0, 1};
  qo = {0, 1};
  prev = {4};
  const int32_t first = 1;
  kv.page_indptr = indptr1.data();
  kv.page_indices = two.data();
  kv.first_pages = &first;
  EXPECT_NE(attention(qkv.data(), out.data(), &kv, 1, 0, 1, 1, 8, 1.0f, rope), 0);
  EXPECT_NE(std::string(error_buffer()).find("was released"), std::string::npos);
  const Rope odd{Rope::kRotateHalf, 7, inv.data()};
  kv.first_pages = nullptr;
  EXPECT_NE(attention(qkv.data(), out.data(), &kv, 1, 0, 1, 1, 8, 1.0f, odd), 0);
  EXPECT_NE(std::string(error_buffer()).find("rotary_dim"), std::string::npos);
}

}  // namespace
}  // namespace llmcc::cpu_kernels
