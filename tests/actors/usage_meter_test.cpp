#include "parley/actors/usage_meter.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace parley::actors {
namespace {

constexpr std::int64_t day0 = 1'790'000'000'000;  // 2026-09-21T13:46:40Z

TEST(UsageMeter, CountsByUtcDayAndTakesWhatAccumulated) {
  usage_meter m;
  m.add(usage_counter::inbound, day0, 3);
  m.add(usage_counter::inbound, day0 + 1000);
  m.add(usage_counter::duplicates, day0);
  m.add(usage_counter::outbound, day0 + 86'400'000);
  m.add(usage_counter::failed, day0, 0);  // nothing
  auto days = m.take();
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days.at("2026-09-21").counts[static_cast<std::size_t>(usage_counter::inbound)], 4u);
  EXPECT_EQ(days.at("2026-09-21").counts[static_cast<std::size_t>(usage_counter::duplicates)], 1u);
  EXPECT_EQ(days.at("2026-09-22").counts[static_cast<std::size_t>(usage_counter::outbound)], 1u);
  EXPECT_TRUE(m.take().empty());  // taken once
}

TEST(UsageMeter, DayBoundaryIsMidnightUtc) {
  EXPECT_EQ(utc_day(1'790'035'199'999), "2026-09-21");
  EXPECT_EQ(utc_day(1'790'035'200'000), "2026-09-22");
}

TEST(UsageDay, LatencyPercentilesAreWithinFivePercent) {
  usage_day d;
  EXPECT_FALSE(d.latency_percentile(50).has_value());
  // 1..1000 seconds, one reply each: p50 is 500 s, p95 is 950 s.
  for (std::int64_t s = 1; s <= 1000; ++s) ++d.latency[latency_bucket(s * 1000)];
  auto p50 = d.latency_percentile(50).value();
  auto p95 = d.latency_percentile(95).value();
  EXPECT_NEAR(p50, 500'000, 500'000 * 0.05);
  EXPECT_NEAR(p95, 950'000, 950'000 * 0.05);
  for (std::int64_t ms : {1, 7, 100, 4'321, 60'000, 3'600'000, 86'400'000}) {
    usage_day one;
    ++one.latency[latency_bucket(ms)];
    EXPECT_NEAR(one.latency_percentile(50).value(), static_cast<double>(ms), ms * 0.05 + 0.1) << ms;
  }
}

TEST(UsageDay, EncodesMergesAndDecodes) {
  usage_day a;
  a.counts = {5, 4, 3, 2, 1};
  ++a.latency[latency_bucket(2500)];
  usage_day b;
  b.counts = {1, 1, 1, 1, 1};
  ++b.latency[latency_bucket(2500)];
  ++b.latency[latency_bucket(90'000)];
  a.merge(b);
  auto back = usage_day::decode(a.encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->counts, (std::array<std::uint64_t, usage_counter_count>{6, 5, 4, 3, 2}));
  EXPECT_EQ(back->latency, a.latency);
  EXPECT_FALSE(usage_day::decode("not json").ok());
  EXPECT_TRUE(usage_day{}.empty());
  EXPECT_FALSE(back->empty());
}

}  // namespace
}  // namespace parley::actors
