#pragma once
/// Open-loop pacing for one connection of a fixed-rate run.
///
/// A run at R requests/s over C connections gives each connection one slot every C/R
/// seconds. Connection i starts i/C of a slot late, so the connections together issue a
/// steady stream instead of C-sized bursts. The schedule never slips: when an answer comes
/// back late, the next request is due at once and its latency is measured from its slot,
/// so stalls are charged to every request that waited behind them (no coordinated
/// omission). In a closed-loop run (rate 0) a request is due as soon as the previous one
/// was answered.
#include <chrono>
#include <cstddef>

namespace parley::bench {

class pacer {
 public:
  using clock_type = std::chrono::steady_clock;

  pacer(double rate, std::size_t connections, std::size_t index) {
    if (rate > 0 && connections > 0) {
      interval_ = std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(static_cast<double>(connections) / rate));
      offset_ = std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(static_cast<double>(index) / rate));
    }
  }

  bool open_loop() const { return interval_.count() > 0; }
  clock_type::duration interval() const { return interval_; }

  /// Call once when the connection is ready; the first request is due at the returned time.
  clock_type::time_point start(clock_type::time_point now) {
    intended_ = now + offset_;
    return intended_;
  }

  /// The slot of the next request, given the current time: the next slot of the fixed
  /// schedule (possibly in the past), or `now` in a closed loop.
  clock_type::time_point next(clock_type::time_point now) {
    if (open_loop()) intended_ += interval_;
    else intended_ = now;
    return intended_;
  }

  /// When the request in flight was meant to go out; latency is measured from here.
  clock_type::time_point intended() const { return intended_; }

 private:
  clock_type::duration interval_{0};
  clock_type::duration offset_{0};
  clock_type::time_point intended_{};
};

}  // namespace parley::bench
