#pragma once
/// Usage per UTC day of one tenant (admin API: GET …/usage): message counts and the
/// latency of replies. Actors count into the meter without messages or locks held for
/// long (any thread); the tenant actor takes what accumulated about once a second and
/// adds it to the stored day records, of which it is the only writer.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "parley/result.hpp"

namespace parley::actors {

enum class usage_counter : std::uint8_t { inbound, outbound, delivered, failed, duplicates };
inline constexpr std::size_t usage_counter_count = 5;
[[nodiscard]] std::string_view to_string(usage_counter c) noexcept;

/// Reply latencies as a log-linear histogram: 8 buckets per power of two from 1 ms,
/// so a reported percentile is within 9% of the true one.
inline constexpr std::size_t latency_buckets = 8 * 32;

/// One day of usage: counts and the latency histogram.
struct usage_day {
  std::array<std::uint64_t, usage_counter_count> counts{};
  std::array<std::uint32_t, latency_buckets> latency{};

  void merge(const usage_day& other);
  /// The latency at percentile `p` (0..100) in ms; nullopt when no reply was counted.
  [[nodiscard]] std::optional<double> latency_percentile(double p) const;
  [[nodiscard]] bool empty() const;
  /// Compact JSON for the stored record, and back.
  [[nodiscard]] std::string encode() const;
  [[nodiscard]] static result<usage_day> decode(std::string_view json);
};

/// Bucket of a latency in ms (exposed for tests).
[[nodiscard]] std::size_t latency_bucket(std::int64_t ms) noexcept;

/// "YYYY-MM-DD" of a UTC time.
[[nodiscard]] std::string utc_day(std::int64_t ms);

class usage_meter {
 public:
  void add(usage_counter c, std::int64_t at_ms, std::uint64_t n = 1);
  void add_reply_latency(std::int64_t at_ms, std::int64_t latency_ms);
  /// Everything counted since the last take, by day.
  [[nodiscard]] std::map<std::string, usage_day> take();

 private:
  std::mutex mutex_;
  std::map<std::string, usage_day> pending_;
};

}  // namespace parley::actors
