// Rate control of parley-bench: the fixed-rate schedule of each connection, their
// staggering, and that a late answer does not shift the schedule (coordinated omission).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "parley_bench/pacer.hpp"

namespace parley::bench {
namespace {

using namespace std::chrono_literals;
using clock_type = pacer::clock_type;

TEST(Pacer, ClosedLoopIsDueImmediately) {
  pacer p(0, 8, 3);
  EXPECT_FALSE(p.open_loop());
  auto t0 = clock_type::time_point{} + 5s;
  EXPECT_EQ(p.start(t0), t0);
  EXPECT_EQ(p.next(t0 + 7ms), t0 + 7ms);
  EXPECT_EQ(p.intended(), t0 + 7ms);
}

TEST(Pacer, OneConnectionTicksAtTheRate) {
  pacer p(1000, 1, 0);
  ASSERT_TRUE(p.open_loop());
  EXPECT_EQ(p.interval(), 1ms);
  auto t0 = clock_type::time_point{} + 1s;
  EXPECT_EQ(p.start(t0), t0);
  EXPECT_EQ(p.next(t0), t0 + 1ms);
  EXPECT_EQ(p.next(t0 + 1ms), t0 + 2ms);
}

TEST(Pacer, ConnectionsTogetherIssueAnEvenStream) {
  // 4 connections at 4000/s: each fires every 1 ms, offset by 0.25 ms from its neighbour,
  // so one second holds exactly 4000 evenly spaced slots.
  constexpr std::size_t connections = 4;
  auto t0 = clock_type::time_point{} + 1s;
  std::vector<clock_type::time_point> slots;
  for (std::size_t i = 0; i < connections; ++i) {
    pacer p(4000, connections, i);
    for (auto due = p.start(t0); due < t0 + 1s; due = p.next(due)) slots.push_back(due);
  }
  ASSERT_EQ(slots.size(), 4000u);
  std::sort(slots.begin(), slots.end());
  for (std::size_t i = 1; i < slots.size(); ++i) {
    auto gap = slots[i] - slots[i - 1];
    EXPECT_GE(gap, 249us) << "slot " << i;
    EXPECT_LE(gap, 251us) << "slot " << i;
  }
}

TEST(Pacer, LateAnswersDoNotShiftTheSchedule) {
  // An answer that comes back 50 ms late leaves the following slots where they were: the
  // requests due meanwhile are due at once and their latency counts from their own slots.
  pacer p(100, 1, 0);  // one slot every 10 ms
  auto t0 = clock_type::time_point{} + 1s;
  p.start(t0);
  auto late = t0 + 50ms;
  EXPECT_EQ(p.next(late), t0 + 10ms);
  EXPECT_LT(p.intended(), late);
  EXPECT_EQ(p.next(late), t0 + 20ms);
  for (int i = 0; i < 3; ++i) p.next(late);
  EXPECT_EQ(p.intended(), t0 + 50ms);
  EXPECT_EQ(p.next(late), t0 + 60ms);
}

TEST(Pacer, RateIsExactOverALongRun) {
  // 7 connections at 1234/s for 60 s: the total number of slots matches the rate within one
  // slot per connection (no drift from rounding the interval).
  constexpr std::size_t connections = 7;
  auto t0 = clock_type::time_point{};
  std::size_t total = 0;
  for (std::size_t i = 0; i < connections; ++i) {
    pacer p(1234, connections, i);
    for (auto due = p.start(t0); due < t0 + 60s; due = p.next(due)) ++total;
  }
  EXPECT_NEAR(static_cast<double>(total), 1234.0 * 60, connections);
}

}  // namespace
}  // namespace parley::bench
