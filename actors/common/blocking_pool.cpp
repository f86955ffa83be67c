#include "parley/actors/blocking_pool.hpp"

#include "parley/thread_name.hpp"

namespace parley::actors {

blocking_pool::blocking_pool(std::size_t threads, std::size_t max_queued, const char* name) : max_queued_(max_queued) {
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
    name_thread(threads_.back(), name);
  }
}

blocking_pool::~blocking_pool() { stop(); }

status blocking_pool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(errc::shutting_down, "reader pool is stopping");
    if (tasks_.size() >= max_queued_) return make_error(errc::overloaded, "reader pool queue is full");
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return {};
}

void blocking_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void blocking_pool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace parley::actors
