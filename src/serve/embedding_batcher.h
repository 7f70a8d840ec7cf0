// Batches /v1/embeddings across requests: concurrent requests wait in a queue, and one worker
// runs everything queued as one call of the embedder (which splits it by the library's
// max_batch_size and pads each call to its longest sequence), so many small requests share the
// encoder's calls instead of taking turns.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chat/embedder.h"

namespace llmcc::serve {

class EmbeddingBatcher {
 public:
  explicit EmbeddingBatcher(Embedder& embedder);
  ~EmbeddingBatcher();
  EmbeddingBatcher(const EmbeddingBatcher&) = delete;
  EmbeddingBatcher& operator=(const EmbeddingBatcher&) = delete;

  // Blocks until this request's sequences are embedded (pooled and normalized as the model's
  // settings say); rethrows what the embedder threw for them.
  std::vector<Embedding> embed(std::vector<std::vector<int32_t>> sequences);
  // Calls of the embedder so far, and requests they served (a ratio above 1: requests shared).
  int64_t calls() const;
  int64_t requests() const;

 private:
  struct Job {
    std::vector<std::vector<int32_t>> sequences;
    std::promise<std::vector<Embedding>> done;
  };
  void loop();
  void run(std::vector<std::shared_ptr<Job>>& jobs);

  Embedder& embedder_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  int64_t calls_ = 0, requests_ = 0;
  std::thread worker_;
};

}  // namespace llmcc::serve
