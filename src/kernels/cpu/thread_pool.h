// The threads that the kernels of one model library share. OpenMP's fork/join made the calling
// thread wait at every op for every thread of the team, so one thread that the OS had parked
// behind another process held the whole op for a scheduler quantum. Here an op is a set of tasks
// taken from one atomic ticket by whichever threads are awake: the calling thread always works,
// and it waits only for tasks another thread has already claimed, never for a thread that has not
// shown up. Idle workers spin briefly (the next op usually follows within microseconds), then
// sleep on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace llmcc::cpu_kernels {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Threads for the kernels: $LLMCC_NUM_THREADS, else $OMP_NUM_THREADS (what `llmcc bench
// --threads` and OpenMP users already set), else every core.
inline int default_thread_count() {
  for (const char* name : {"LLMCC_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* v = std::getenv(name)) {
      const int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

class ThreadPool {
 public:
  // About 30 microseconds of spinning at ~100 cycles per pause before an idle worker sleeps.
  static constexpr int kSpinsBeforeSleep = 1 << 10;

  static ThreadPool& instance() {
    static ThreadPool pool(default_thread_count());
    return pool;
  }

  explicit ThreadPool(int threads) { start(threads); }
  ~ThreadPool() { stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that work on an op, the caller included.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Changes the number of threads (for benchmarks and tests); not while an op runs.
  void resize(int threads) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    stop();
    start(threads);
  }

  // Keeps the workers from claiming tasks, as if the OS never scheduled them (for tests).
  void hold_workers_for_test(bool hold) { held_.store(hold, std::memory_order_seq_cst); }

  // Runs fn(begin, end) over [0, n) in tasks of `grain` items, on the caller and whichever
  // workers are awake; returns when every item is done. A second caller that arrives while an op
  // runs (two engines on one library), or a task that itself calls run, does the work alone.
  template <typename F>
  void run(int64_t n, int64_t grain, const F& fn) {
    if (n <= 0) return;
    grain = grain < 1 ? 1 : grain;
    int64_t tasks = (n + grain - 1) / grain;
    if (tasks > kMaxTasks) {
      grain = (n + kMaxTasks - 1) / kMaxTasks;
      tasks = (n + grain - 1) / grain;
    }
    std::unique_lock<std::mutex> run_lock(run_mutex_, std::try_to_lock);
    if (tasks == 1 || workers_.empty() || in_task() || !run_lock.owns_lock()) {
      fn(int64_t{0}, n);
      return;
    }
    Job job;
    job.call = [](const void* f, int64_t b, int64_t e) { (*static_cast<const F*>(f))(b, e); };
    job.fn = &fn;
    job.n = n;
    job.grain = grain;
    job_ = job;
    done_.store(0, std::memory_order_relaxed);
    epoch_ = (epoch_ + 1) & 0xffffffffu;
    ticket_.store(epoch_ << 32 | static_cast<uint64_t>(tasks) << 16, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(sleep_mutex_); }
      wake_.notify_all();
    }
    work_until_empty(false);
    // Only tasks that a worker has claimed can be outstanding here: they are running now.
    for (int spins = 0; done_.load(std::memory_order_acquire) != tasks; ++spins) {
      if (spins < kSpinsBeforeSleep) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  // The ticket holds the op's epoch (bits 32-63), its task count (16-31) and the next unclaimed
  // task (0-15), so that a claim is one compare-and-swap and can never take a task of an op that
  // has already finished: such a ticket no longer exists.
  static constexpr int64_t kMaxTasks = 0xffff;
  static uint64_t task_count(uint64_t t) { return (t >> 16) & 0xffff; }
  static uint64_t next_task(uint64_t t) { return t & 0xffff; }

  struct Job {
    void (*call)(const void*, int64_t, int64_t) = nullptr;
    const void* fn = nullptr;
    int64_t n = 0, grain = 1;
  };

  static bool& in_task() {
    static thread_local bool inside = false;
    return inside;
  }

  // Claims and runs tasks of the current op until none is left. The job is read only after a
  // claim succeeds: its op cannot finish (nor the next op overwrite it) before this task is done.
  void work_until_empty(bool worker) {
    uint64_t t = ticket_.load(std::memory_order_acquire);
    while (next_task(t) < task_count(t)) {
      if (worker && held_.load(std::memory_order_seq_cst)) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
        continue;
      const Job& job = job_;
      const int64_t begin = static_cast<int64_t>(next_task(t)) * job.grain;
      const int64_t end = begin + job.grain < job.n ? begin + job.grain : job.n;
      in_task() = true;
      job.call(job.fn, begin, end);
      in_task() = false;
      done_.fetch_add(1, std::memory_order_release);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    uint64_t seen = ticket_.load(std::memory_order_acquire);
    int spins = 0;
    while (!stopping_.load(std::memory_order_acquire)) {
      const uint64_t t = ticket_.load(std::memory_order_acquire);
      if (held_.load(std::memory_order_seq_cst)) {
        std::this_thread::yield();
        continue;
      }
      if (next_task(t) < task_count(t)) {
        work_until_empty(true);
        seen = ticket_.load(std::memory_order_acquire);
        spins = 0;
        continue;
      }
      if (t != seen) {  // an op came and went while this thread was elsewhere
        seen = t;
        spins = 0;
      }
      if (++spins < kSpinsBeforeSleep) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] {
        return stopping_.load(std::memory_order_seq_cst) ||
               ticket_.load(std::memory_order_seq_cst) != seen;
      });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      spins = 0;
    }
  }

  void start(int threads) {
    stopping_.store(false);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_.store(true, std::memory_order_seq_cst);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one op at a time
  Job job_;
  uint64_t epoch_ = 0;  // written by the op's caller only
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> held_{false};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

// Whether an op of `work` inner steps (multiply-adds, or elements for the light ops) is worth
// handing to the pool: waking it and collecting the tasks costs about a microsecond, what one core
// spends on some 64K multiply-adds. Smaller ops run on the calling thread.
constexpr int64_t kParallelMinWork = int64_t{1} << 16;
inline bool worth_parallel(int64_t work) { return work >= kParallelMinWork; }

// Runs fn(i) for every i in [0, n), spread over the pool when `work` pays for it. Tasks are a few
// per thread so that a thread that arrives late still finds some, and one that is slow (or
// parked by the OS) holds back no more than its own.
template <typename F>
void parallel_for(int64_t n, int64_t work, const F& fn) {
  if (n <= 1 || !worth_parallel(work)) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  ThreadPool& pool = ThreadPool::instance();
  const int64_t grain = n / (int64_t{8} * pool.size());
  pool.run(n, grain, [&fn](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i);
  });
}

}  // namespace llmcc::cpu_kernels
