// llmcc bench --concurrency: a closed-loop serving benchmark on the engine. N clients each keep
// one request in flight (fixed prompt and output lengths, random tokens after an optional shared
// prefix) until the level's requests are done; reports output throughput, TTFT, TPOT and
// end-to-end latency percentiles, and the prefix-cache hit rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmcc::cli {

struct ServingBenchOptions {
  std::string model_dir, model_lib;
  std::vector<int64_t> concurrency;
  int64_t requests = 0;  // per level; 0: 4 per client, at least 8
  int64_t prompt = 128, decode = 64, shared_prefix = 0;
  int64_t page_size = 16;
  uint64_t seed = 0;
  bool json = false;
};

int run_serving_bench(const ServingBenchOptions& options);

}  // namespace llmcc::cli
