#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace parley::bench {

int histogram::index_of(std::uint64_t v) noexcept {
  if (v < static_cast<std::uint64_t>(sub_buckets)) return static_cast<int>(v);
  int magnitude = std::bit_width(v) - sub_bits;  // >= 1
  if (magnitude >= magnitudes) return sub_buckets * magnitudes - 1;
  auto sub = static_cast<int>(v >> magnitude) - sub_buckets / 2;  // 32..63 -> 0..31 after shift
  // Values in [2^(k+sub_bits-1), 2^(k+sub_bits)) map to bucket row k with sub-bucket
  // (v >> k) in [32, 64): the upper half of a row, so rows never overlap.
  return magnitude * sub_buckets + sub + sub_buckets / 2;
}

std::uint64_t histogram::upper_edge(int index) noexcept {
  int magnitude = index / sub_buckets;
  int sub = index % sub_buckets;
  if (magnitude == 0) return static_cast<std::uint64_t>(sub);
  return ((static_cast<std::uint64_t>(sub) + 1) << magnitude) - 1;
}

void histogram::record(std::uint64_t micros) noexcept { record_n(micros, 1); }

void histogram::record_n(std::uint64_t micros, std::uint64_t n) noexcept {
  if (n == 0) return;
  micros = std::max<std::uint64_t>(micros, 1);
  counts_[static_cast<std::size_t>(index_of(micros))] += n;
  count_ += n;
  sum_ += micros * n;
  max_ = std::max(max_, micros);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void histogram::reset() noexcept { *this = histogram{}; }

std::uint64_t histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  target = std::max<std::uint64_t>(target, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= target) return std::min(upper_edge(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace parley::bench
