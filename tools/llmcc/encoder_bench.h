// llmcc bench on an encoder (BERT): sequences of --prompt tokens, --batch at a time, through the
// library's prefill; tokens and sequences per second, and the matmuls' rate in GFLOP/s.
#pragma once

#include <cstdint>
#include <string>

namespace llmcc::cli {

struct EncoderBenchOptions {
  std::string model_dir, model_lib;
  int64_t tokens = 128, batch = 0, runs = 3;  // batch 0: the library's max_batch_size
  bool json = false;
};

int run_encoder_bench(const EncoderBenchOptions& o);

}  // namespace llmcc::cli
