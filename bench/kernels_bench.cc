// Kernel microbenchmarks (Google Benchmark), built with the flags model libraries use
// (-O2 -march=native). Byte rates count the weight bytes each call must read.
//   build/bench/llmcc_kernel_bench --benchmark_filter=Gemv
#include <benchmark/benchmark.h>
#include <omp.h>

#include <random>
#include <tuple>
#include <vector>

#include "kernels/cpu/all.h"

namespace llmcc::cpu_kernels {
namespace {

// A large read of a 1 GiB array: the machine's memory bandwidth roofline for decode.
void BM_ReadBandwidth(benchmark::State& state) {
  const size_t n = (size_t{1} << 30) / sizeof(float);
  static std::vector<float> data(n, 1.0f);
  omp_set_num_threads(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    float total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (size_t i = 0; i < n; i += 8) {
      __m256 v = _mm256_loadu_ps(data.data() + i);
      total += _mm256_cvtss_f32(v);
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * sizeof(float));
}
BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

struct Q4Matrix {
  int64_t N, K, groups;
  std::vector<uint32_t> qw;
  std::vector<half> qs;
  Q4Matrix(int64_t n, int64_t k, int bits) : N(n), K(k), groups((k + 31) / 32) {
    std::mt19937 rng(1);
    qw.resize(N * groups * 32 * bits / 32);
    for (auto& w : qw) w = rng() & (bits == 4 ? 0xEEEEEEEEu : 0xFEFEFEFEu);
    qs.resize(N * groups, from_float<half>(0.01f));
  }
  // The int4 weights repacked into tiles of `columns` columns (int4_tile_layout.h).
  std::vector<uint8_t> tiles(int64_t columns) const {
    std::vector<uint8_t> out(int4_tile_bytes(N, groups, columns));
    pack_int4_tiles(qw.data(), reinterpret_cast<const uint16_t*>(qs.data()), N, groups, columns,
                    out.data());
    return out;
  }
};

// TinyLlama's decode (1 row), 16-stream batched decode and prefill (128 rows) matmuls: rows, N, K,
// threads.
void q4_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t rows : {1, 16, 128})
    for (auto [n, k, threads] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
             {11264, 2048, 1}, {11264, 2048, 2}, {2048, 5632, 2}, {32000, 2048, 2}})
      if (rows != 128 || (n == 11264 && k == 2048)) b->Args({rows, n, k, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

// args: rows (1 = decode GEMV), N, K, threads
void BM_GemvQ4(benchmark::State& state) {
  const int64_t rows = state.range(0), N = state.range(1), K = state.range(2);
  ThreadPool::instance().resize(static_cast<int>(state.range(3)));
  Q4Matrix m(N, K, 4);
  std::vector<float> x(rows * K, 0.5f), y(rows * N);
  for (auto _ : state) {
    linear_q<4, 32>(x.data(), m.qw.data(), m.qs.data(), static_cast<const float*>(nullptr),
                    y.data(), rows, N, K, false);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * (m.qw.size() * 4 + m.qs.size() * 2));
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(rows * N * K) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemvQ4)->Apply(q4_shapes);

// The same shapes with the weights repacked into tiles of C columns: 8 (the AVX2 layout,
// BM_GemvQ4Tiled) or 16 (the AVX-512 VNNI one, BM_GemvQ4Tiled16).
template <int C>
void BM_GemvQ4Tiles(benchmark::State& state) {
  const int64_t rows = state.range(0), N = state.range(1), K = state.range(2);
  ThreadPool::instance().resize(static_cast<int>(state.range(3)));
  Q4Matrix m(N, K, 4);
  const std::vector<uint8_t> tiles = m.tiles(C);
  std::vector<float> x(rows * K, 0.5f), y(rows * N);
  const float* none = nullptr;
  for (auto _ : state) {
    if constexpr (C == 8) {
      linear_int4_tile8(x.data(), tiles.data(), none, y.data(), rows, N, K);
    } else {
#if defined(LLMCC_HAVE_VNNI512)
      linear_int4_tile16(x.data(), tiles.data(), none, y.data(), rows, N, K);
#endif
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * tiles.size());
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(rows * N * K) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemvQ4Tiles<8>)->Name("BM_GemvQ4Tiled")->Apply(q4_shapes);
#if defined(LLMCC_HAVE_VNNI512)
BENCHMARK(BM_GemvQ4Tiles<16>)->Name("BM_GemvQ4Tiled16")->Apply(q4_shapes);

// The 16-column tile kernel's inner loop alone, on L1-resident data (one tile x K = 2048).
template <int R>
void BM_Int4Tile16Core(benchmark::State& state) {
  ThreadPool::instance().resize(1);
  const int64_t K = 2048, N = 16;
  Q4Matrix m(N, K, 4);
  const std::vector<uint8_t> tiles = m.tiles(16);
  std::vector<float> x(R * K);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 61) - 30.0f;
  Int8Panel a;
  quantize_panel(x.data(), R, K, a);
  alignas(64) float out[16 * 8];
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) dot_int4_tile16<R>(tiles.data(), a, 0, out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(64 * R * N * K) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int4Tile16Core<1>);
BENCHMARK(BM_Int4Tile16Core<4>);
BENCHMARK(BM_Int4Tile16Core<8>);
#endif

// The tile kernel's inner loop alone, on L1-resident data (two tiles x K = 2048, four rows): its
// compute rate without memory. args: T (tiles per call), R (rows per call).
template <int T, int R>
void BM_Int4TileCore(benchmark::State& state) {
  ThreadPool::instance().resize(1);
  const int64_t K = 2048, N = 8 * T;
  Q4Matrix m(N, K, 4);
  const std::vector<uint8_t> tiles = m.tiles(8);
  std::vector<float> x(R * K);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 61) - 30.0f;
  Int8Activations a;
  quantize_activations(x.data(), R, K, true, a);
  float out[8 * 2 * 4];
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) dot_int4_tiles<T, R>(tiles.data(), a, 0, out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(64 * R * N * K) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int4TileCore<1, 1>);
BENCHMARK(BM_Int4TileCore<2, 1>);
BENCHMARK(BM_Int4TileCore<1, 4>);
BENCHMARK(BM_Int4TileCore<2, 4>);

void BM_GemvQ8(benchmark::State& state) {
  const int64_t rows = state.range(0), N = state.range(1), K = state.range(2);
  ThreadPool::instance().resize(static_cast<int>(state.range(3)));
  Q4Matrix m(N, K, 8);
  std::vector<float> x(rows * K, 0.5f), y(rows * N);
  for (auto _ : state) {
    linear_q<8, 32>(x.data(), m.qw.data(), m.qs.data(), static_cast<const float*>(nullptr),
                    y.data(), rows, N, K, false);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * (m.qw.size() * 4 + m.qs.size() * 2));
}
BENCHMARK(BM_GemvQ8)
    ->Args({1, 11264, 2048, 2})
    ->Args({128, 11264, 2048, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_GemvF16(benchmark::State& state) {
  const int64_t rows = state.range(0), N = state.range(1), K = state.range(2);
  ThreadPool::instance().resize(static_cast<int>(state.range(3)));
  std::vector<half> w(N * K, from_float<half>(0.01f));
  std::vector<half> x(rows * K, from_float<half>(0.5f)), y(rows * N);
  for (auto _ : state) {
    linear(x.data(), w.data(), static_cast<const half*>(nullptr), y.data(), rows, N, K);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * w.size() * 2);
}
BENCHMARK(BM_GemvF16)
    ->Args({1, 11264, 2048, 2})
    ->Args({128, 11264, 2048, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace llmcc::cpu_kernels

BENCHMARK_MAIN();
