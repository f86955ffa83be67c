#pragma once
/// A small pool of threads for blocking work (RocksDB reads for the tenant API, exports)
/// so that it never runs on an Asio I/O thread or CAF's shared scheduler. Bounded: a
/// full queue refuses work at once (the caller answers 503) instead of growing.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "parley/result.hpp"

namespace parley::actors {

class blocking_pool {
 public:
  /// `name` names its threads (see parley::name_this_thread).
  blocking_pool(std::size_t threads, std::size_t max_queued, const char* name = "parley-pool");
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues `task`; overloaded when the queue is full, shutting_down after stop().
  [[nodiscard]] status submit(std::function<void()> task);
  /// Runs what is queued, then joins the threads. Idempotent.
  void stop();

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t max_queued_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace parley::actors
