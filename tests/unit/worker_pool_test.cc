#include "serve/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>

namespace llmcc::serve {
namespace {

TEST(WorkerPool, OneClientAtATimeIsServedByOneThread) {
  // The property that keeps RSS flat: jobs that never overlap all land on one warm worker.
  WorkerPool pool(32);
  std::set<std::thread::id> ran_on;
  for (int i = 0; i < 200; ++i) {
    std::promise<std::thread::id> done;
    pool.run([&] { done.set_value(std::this_thread::get_id()); });
    ran_on.insert(done.get_future().get());
    while (pool.idle_threads() == 0) std::this_thread::yield();  // the job has returned
  }
  EXPECT_EQ(ran_on.size(), 1u);
  EXPECT_EQ(pool.threads_started(), 1u);
}

TEST(WorkerPool, StartsThreadsUpToItsLimitThenQueues) {
  WorkerPool pool(3);
  std::promise<void> release_promise;
  std::shared_future<void> release = release_promise.get_future().share();
  std::atomic<int> started{0}, finished{0};
  for (int i = 0; i < 5; ++i)
    pool.run([&] {
      ++started;
      release.wait();
      ++finished;
    });
  // Three jobs block their threads; the other two wait in the queue.
  while (started.load() < 3) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(started.load(), 3);
  EXPECT_EQ(pool.threads_started(), 3u);
  release_promise.set_value();
  pool.shutdown();  // runs the queued jobs before joining
  EXPECT_EQ(finished.load(), 5);
  EXPECT_EQ(pool.threads_started(), 3u);
}

TEST(WorkerPool, ConcurrentClientsUseAboutAsManyThreadsAsOverlap) {
  WorkerPool pool(64);
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> left{4};
    std::promise<void> all_done;
    for (int i = 0; i < 4; ++i)
      pool.run([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (--left == 0) all_done.set_value();
      });
    all_done.get_future().wait();
  }
  // httplib's own pool would have cycled through all 64 threads.
  EXPECT_LE(pool.threads_started(), 8u);
}

}  // namespace
}  // namespace llmcc::serve
