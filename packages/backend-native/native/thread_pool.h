// A tiny persistent thread pool: `run(n, fn)` calls fn(begin, end) on contiguous ranges of [0, n), one per
// thread, the caller taking the first range. Persistent workers avoid ~30-60 us of thread creation per kernel
// call, which matters for the small GEMMs of an MLP step (about 0.3 ms each).
#pragma once
#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sl {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(std::max(1, threads)) {
    for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { Loop(t); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return threads_; }

  // Splits [0, n) into min(threads, n) ranges. `grain` aligns range boundaries (e.g. to a micro-tile size).
  void Run(long n, const std::function<void(long, long)>& fn, long grain = 1, int maxThreads = 0) {
    int use = threads_;
    if (maxThreads > 0) use = std::min(use, maxThreads);
    long units = (n + grain - 1) / grain;
    use = static_cast<int>(std::min<long>(use, units));
    if (use <= 1) {
      if (n > 0) fn(0, n);
      return;
    }
    std::unique_lock<std::mutex> runLock(runMutex_);  // one parallel region at a time
    long per = (units + use - 1) / use;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &fn;
      n_ = n;
      per_ = per * grain;
      active_ = use;
      pending_ = use - 1;
      ++generation_;
    }
    wake_.notify_all();
    fn(0, std::min(n, per_));
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  void Loop(int index) {
    long seen = 0;
    for (;;) {
      const std::function<void(long, long)>* task;
      long begin, end;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (index >= active_) continue;
        task = task_;
        begin = std::min(n_, per_ * index);
        end = std::min(n_, per_ * (index + 1));
      }
      if (begin < end) (*task)(begin, end);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_, runMutex_;
  std::condition_variable wake_, done_;
  const std::function<void(long, long)>* task_ = nullptr;
  long n_ = 0, per_ = 0, generation_ = 0;
  int active_ = 0, pending_ = 0;
  bool stop_ = false;
};

ThreadPool& Pool();
void SetThreads(int threads);

}  // namespace sl
