// The HTTP server's worker threads, handed work most-recently-idle first. cpp-httplib's own pool
// wakes its workers in turn, so under 16 clients every one of its threads (one per request that
// may be in flight) runs now and then, and each keeps its own malloc cache (glibc's tcache) and
// touched stack: RSS crept up by about 350 bytes a request for tens of thousands of requests.
// Here the worker that went idle last takes the next job, so the threads that run are about as
// many as the requests in flight at once, and threads start only when no idle one is left.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace llmcc::serve {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool();  // shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `job` on an idle worker, else on a new one while fewer than max_threads run, else
  // queues it for the first worker to finish.
  void run(std::function<void()> job);
  // Runs the queued jobs to their end, then joins every worker; run() is refused after it.
  void shutdown();

  size_t threads_started() const;
  size_t idle_threads() const;

 private:
  struct Worker {
    std::condition_variable wake;
    std::function<void()> job;  // set by run() while the worker sits on idle_
    std::thread thread;
  };
  void work(Worker* self);

  const size_t max_threads_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;  // a stack: back() went idle last
  std::deque<std::function<void()>> queued_;
  bool stopping_ = false;
};

}  // namespace llmcc::serve
