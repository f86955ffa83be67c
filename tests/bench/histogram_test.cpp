#include "parley_bench/histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace parley::bench {
namespace {

TEST(Histogram, QuantilesStayWithinTheBucketError) {
  histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.max(), 100'000u);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = q * 100'000;
    double got = static_cast<double>(h.quantile(q));
    EXPECT_GE(got, exact * 0.99) << q;
    EXPECT_LE(got, exact * 1.04) << q;  // upper bucket edge: at most 1/32 above
  }
  EXPECT_NEAR(h.mean(), 50'000.5, 1.0);
}

TEST(Histogram, SmallValuesAreExactAndZeroCountsAsOne) {
  histogram h;
  h.record(0);
  h.record(3);
  h.record(63);
  EXPECT_EQ(h.quantile(0.0), 1u);
  EXPECT_EQ(h.quantile(0.5), 3u);
  EXPECT_EQ(h.quantile(1.0), 63u);
}

TEST(Histogram, MergeAddsCountsAndKeepsTheMax) {
  histogram a, b;
  a.record_n(100, 9);
  b.record(5'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 10u);
  EXPECT_EQ(a.max(), 5'000u);
  EXPECT_LE(a.quantile(0.9), 103u);
  EXPECT_GE(a.quantile(0.95), 4'900u);
}

TEST(Histogram, HugeValuesLandInTheTopBucketWithoutOverflow) {
  histogram h;
  h.record(~std::uint64_t{0} / 4);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_GT(h.quantile(1.0), 0u);
}

TEST(Histogram, AnEmptyHistogramAnswersZero) {
  histogram h;
  EXPECT_EQ(h.quantile(0.99), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

}  // namespace
}  // namespace parley::bench
