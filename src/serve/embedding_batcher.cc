#include "serve/embedding_batcher.h"

namespace llmcc::serve {

EmbeddingBatcher::EmbeddingBatcher(Embedder& embedder)
    : embedder_(embedder), worker_([this] { loop(); }) {}

EmbeddingBatcher::~EmbeddingBatcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::vector<Embedding> EmbeddingBatcher::embed(std::vector<std::vector<int32_t>> sequences) {
  auto job = std::make_shared<Job>();
  job->sequences = std::move(sequences);
  std::future<std::vector<Embedding>> result = job->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
  }
  wake_.notify_one();
  return result.get();
}

int64_t EmbeddingBatcher::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

int64_t EmbeddingBatcher::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void EmbeddingBatcher::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      jobs.assign(queue_.begin(), queue_.end());
      queue_.clear();
      ++calls_;
      requests_ += static_cast<int64_t>(jobs.size());
    }
    run(jobs);
  }
}

void EmbeddingBatcher::run(std::vector<std::shared_ptr<Job>>& jobs) {
  const EmbeddingSettings& s = embedder_.settings();
  size_t answered = 0;  // jobs [0, answered) hold their result
  try {
    std::vector<std::vector<int32_t>> all;
    for (const auto& j : jobs) all.insert(all.end(), j->sequences.begin(), j->sequences.end());
    std::vector<Embedding> out = embedder_.embed(all, s.pooling, s.normalize);
    size_t next = 0;
    for (auto& j : jobs) {
      std::vector<Embedding> mine(
          std::make_move_iterator(out.begin() + next),
          std::make_move_iterator(out.begin() + next + j->sequences.size()));
      next += j->sequences.size();
      j->done.set_value(std::move(mine));
      ++answered;
    }
  } catch (...) {
    // One request's failure must not fail the others: run each alone to find whose it is. Every
    // promise is kept, whatever throws, or its request would wait forever.
    if (jobs.size() - answered == 1) {
      jobs[answered]->done.set_exception(std::current_exception());
      return;
    }
    for (size_t i = answered; i < jobs.size(); ++i) {
      try {
        jobs[i]->done.set_value(embedder_.embed(jobs[i]->sequences, s.pooling, s.normalize));
      } catch (...) {
        jobs[i]->done.set_exception(std::current_exception());
      }
    }
  }
}

}  // namespace llmcc::serve
