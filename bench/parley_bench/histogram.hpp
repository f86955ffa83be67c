#pragma once
/// A latency histogram with bounded relative error: log-linear buckets (each power of
/// two split into 32 linear sub-buckets, so every recorded value is within 1/32 ≈ 3%
/// of the bucket it lands in), 1 µs to ~1 h. Recording is O(1) and allocation-free;
/// histograms of several threads merge by adding counts.
#include <array>
#include <cstdint>

namespace parley::bench {

class histogram {
 public:
  /// Records one value in microseconds (0 is recorded as 1; above the range, the top).
  void record(std::uint64_t micros) noexcept;
  /// Records `count` values (for coordinated-omission correction).
  void record_n(std::uint64_t micros, std::uint64_t count) noexcept;
  void merge(const histogram& other) noexcept;
  void reset() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  /// The value at quantile q (0..1), in microseconds: the upper edge of its bucket.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept;

  static constexpr int sub_bits = 6;
  static constexpr int sub_buckets = 1 << sub_bits;
  static constexpr int magnitudes = 32;  // up to 2^32 µs ≈ 71 min

 private:
  static int index_of(std::uint64_t v) noexcept;
  static std::uint64_t upper_edge(int index) noexcept;

  std::array<std::uint64_t, sub_buckets * magnitudes> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace parley::bench
