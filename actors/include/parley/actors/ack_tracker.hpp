#pragma once
/// Counts the parts of one webhook that must all be durable before it is answered.
/// Thread-safe; `done` runs exactly once, on the thread that completes the last part,
/// with ok (every part stored or a known duplicate) or the first error seen.
#include <atomic>
#include <functional>
#include <mutex>

#include "parley/errc.hpp"

namespace parley::actors {

class ack_tracker {
 public:
  /// Starts with one part held by the creator; release it with complete() when every
  /// real part has been added.
  explicit ack_tracker(std::function<void(errc)> done) : done_(std::move(done)) {}
  ack_tracker(const ack_tracker&) = delete;
  ack_tracker& operator=(const ack_tracker&) = delete;
  /// A tracker dropped with parts outstanding (its actor stopped with the job still in
  /// its mailbox) answers shutting_down, so the provider is told to retry rather than
  /// left without an answer.
  ~ack_tracker() {
    if (!finished_.exchange(true)) done_(errc::shutting_down);
  }

  void add(int parts = 1) noexcept { pending_.fetch_add(parts); }
  void complete(errc code) {
    if (code != errc::ok && code != errc::duplicate) {
      std::lock_guard lock(mutex_);
      if (first_error_ == errc::ok) first_error_ = code;
    }
    if (pending_.fetch_sub(1) == 1 && !finished_.exchange(true)) {
      errc result;
      {
        std::lock_guard lock(mutex_);
        result = first_error_;
      }
      done_(result);
    }
  }

 private:
  std::function<void(errc)> done_;
  std::atomic<int> pending_{1};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  errc first_error_ = errc::ok;
};

}  // namespace parley::actors
