#pragma once
/// The clock interface. Everything that decides by time (retention, windows, timeouts in
/// stored state) takes a `clock&` so tests can move time by hand.
#include <atomic>
#include <cstdint>

namespace parley {

/// Wall-clock milliseconds since the Unix epoch. Implementations are thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  [[nodiscard]] virtual std::int64_t now_ms() const noexcept = 0;
};

/// The real system clock (std::chrono::system_clock).
class system_clock final : public clock {
 public:
  [[nodiscard]] std::int64_t now_ms() const noexcept override;
  /// A process-wide instance.
  static system_clock& instance() noexcept;
};

/// A clock that only moves when told to; for tests. Thread-safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(std::int64_t start_ms) noexcept : now_(start_ms) {}
  [[nodiscard]] std::int64_t now_ms() const noexcept override { return now_.load(); }
  void set(std::int64_t ms) noexcept { now_.store(ms); }
  void advance(std::int64_t ms) noexcept { now_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> now_;
};

inline constexpr std::int64_t ms_per_day = 86'400'000;

}  // namespace parley
