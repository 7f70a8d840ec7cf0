// The kernels' thread pool: every item of an op runs exactly once, whatever the pool's size, the
// op's shape, nesting or a second caller; and an op does not wait for a worker that is busy
// elsewhere.
#include "kernels/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace llmcc::cpu_kernels {
namespace {

void expect_each_once(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  pool.run(n, grain, [&](int64_t begin, int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LE(begin, end);
    ASSERT_LE(end, n);
    for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "item " << i << " of " << n;
}

TEST(ThreadPool, RunsEveryItemOnceForManyShapesAndSizes) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 200001})
      for (int64_t grain : {0, 1, 3, 64}) expect_each_once(pool, n, grain);
  }
}

TEST(ThreadPool, ManyOpsBackToBackLoseNothing) {
  // Thousands of tiny ops: a worker that wakes late must never claim a task of a finished op.
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  for (int op = 0; op < 20000; ++op)
    pool.run(5, 1, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  EXPECT_EQ(total.load(), 5 * 20000);
}

TEST(ThreadPool, SleepingWorkersWakeForTheNextOp) {
  ThreadPool pool(2);
  for (int round = 0; round < 3; ++round) {
    // Long enough for the worker to give up spinning and sleep.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int> worker_items{0};
    const auto caller = std::this_thread::get_id();
    pool.run(64, 1, [&](int64_t, int64_t) {
      if (std::this_thread::get_id() != caller) {
        worker_items.fetch_add(1);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // leave the worker some
      }
    });
    EXPECT_GT(worker_items.load(), 0) << "round " << round;
  }
}

TEST(ThreadPool, NestedRunsInlineInsteadOfDeadlocking) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  pool.run(8, 1, [&](int64_t, int64_t) {
    pool.run(10, 1, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(ThreadPool, TwoCallersAtOnceBothFinishCorrectly) {
  ThreadPool pool(2);
  std::atomic<int64_t> a{0}, b{0};
  std::thread other([&] {
    for (int i = 0; i < 2000; ++i) pool.run(37, 1, [&](int64_t s, int64_t e) { a += e - s; });
  });
  for (int i = 0; i < 2000; ++i) pool.run(41, 2, [&](int64_t s, int64_t e) { b += e - s; });
  other.join();
  EXPECT_EQ(a.load(), 37 * 2000);
  EXPECT_EQ(b.load(), 41 * 2000);
}

TEST(ThreadPool, AnOpDoesNotWaitForWorkersThatNeverShowUp) {
  // Workers held back stand for threads the OS has parked behind another process: a fork/join
  // team would wait for them at the end of every op; this pool finishes on the caller alone.
  ThreadPool pool(3);
  pool.hold_workers_for_test(true);
  const auto caller = std::this_thread::get_id();
  std::atomic<int64_t> on_caller{0};
  for (int op = 0; op < 50; ++op)
    pool.run(100, 1, [&](int64_t s, int64_t e) {
      if (std::this_thread::get_id() == caller) on_caller += e - s;
    });
  EXPECT_EQ(on_caller.load(), 50 * 100);
  pool.hold_workers_for_test(false);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 100; ++i) pool.run(16, 1, [&](int64_t s, int64_t e) { total += e - s; });
  EXPECT_EQ(total.load(), 1600);
}

TEST(ThreadPool, ResizeChangesTheThreadCount) {
  ThreadPool pool(1);
  pool.resize(4);
  EXPECT_EQ(pool.size(), 4);
  expect_each_once(pool, 999, 1);
  pool.resize(1);
  EXPECT_EQ(pool.size(), 1);
  expect_each_once(pool, 999, 1);
}

TEST(ParallelFor, SmallWorkRunsOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  bool all_on_caller = true;
  parallel_for(100, kParallelMinWork - 1,
               [&](int64_t) { all_on_caller &= std::this_thread::get_id() == caller; });
  EXPECT_TRUE(all_on_caller);
  std::vector<std::atomic<int>> hits(5000);
  parallel_for(5000, kParallelMinWork * 16, [&](int64_t i) { hits[i].fetch_add(1); });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

}  // namespace
}  // namespace llmcc::cpu_kernels
