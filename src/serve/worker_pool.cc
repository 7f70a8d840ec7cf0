#include "serve/worker_pool.h"

#include "support/error.h"

namespace llmcc::serve {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(max_threads) {
  if (max_threads == 0) internal_error("a worker pool needs at least one thread");
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::run(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) internal_error("WorkerPool::run after shutdown");
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->job = std::move(job);
    w->wake.notify_one();
    return;
  }
  if (workers_.size() < max_threads_) {
    auto w = std::make_unique<Worker>();
    w->job = std::move(job);
    Worker* raw = w.get();
    workers_.push_back(std::move(w));
    raw->thread = std::thread([this, raw] { work(raw); });
    return;
  }
  queued_.push_back(std::move(job));
}

void WorkerPool::work(Worker* self) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (!self->job) {
      if (!queued_.empty()) {
        self->job = std::move(queued_.front());
        queued_.pop_front();
      } else if (stopping_) {
        return;
      } else {
        idle_.push_back(self);
        self->wake.wait(lock, [&] { return static_cast<bool>(self->job) || stopping_; });
        if (!self->job) continue;  // stopping: drain the queue, then leave
      }
    }
    std::function<void()> job = std::move(self->job);
    self->job = nullptr;
    lock.unlock();
    job();
    job = nullptr;  // whatever it captured is released outside the lock
    lock.lock();
  }
}

void WorkerPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    idle_.clear();
    for (auto& w : workers_) w->wake.notify_one();
  }
  // run() refuses work from here on, so workers_ no longer changes.
  for (auto& w : workers_) w->thread.join();
}

size_t WorkerPool::threads_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.size();
}

size_t WorkerPool::idle_threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace llmcc::serve
