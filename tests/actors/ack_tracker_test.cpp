#include "parley/actors/ack_tracker.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "parley/actors/inflight_ids.hpp"

namespace parley::actors {
namespace {

TEST(AckTracker, AnswersOnceWhenEveryPartIsDone) {
  int calls = 0;
  errc seen = errc::internal;
  auto ack = std::make_shared<ack_tracker>([&](errc c) {
    ++calls;
    seen = c;
  });
  ack->add(3);
  ack->complete(errc::ok);
  ack->complete(errc::duplicate);  // a duplicate part is fine
  ack->complete(errc::ok);
  EXPECT_EQ(calls, 0);  // the creator's hold is still there
  ack->complete(errc::ok);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, errc::ok);
  ack.reset();
  EXPECT_EQ(calls, 1);  // no second answer from the destructor
}

TEST(AckTracker, TheFirstErrorWinsAndPartsOnManyThreadsCountOnce) {
  std::atomic<int> calls{0};
  errc seen = errc::ok;
  {
    auto ack = std::make_shared<ack_tracker>([&](errc c) {
      ++calls;
      seen = c;
    });
    ack->add(64);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 8; ++i) ack->complete(t == 3 && i == 0 ? errc::io_error : errc::ok);
      });
    }
    for (auto& t : threads) t.join();
    ack->complete(errc::ok);
  }
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen, errc::io_error);
}

TEST(AckTracker, DroppedWithPartsOutstandingAnswersShuttingDown) {
  errc seen = errc::ok;
  {
    ack_tracker ack([&](errc c) { seen = c; });
    ack.add();
  }
  EXPECT_EQ(seen, errc::shutting_down);
}

TEST(InflightIds, ACopyWaitsForTheFirstAndGetsItsOutcome) {
  inflight_ids ids;
  errc first = errc::internal, second = errc::internal;
  auto a = std::make_shared<ack_tracker>([&](errc c) { first = c; });
  auto b = std::make_shared<ack_tracker>([&](errc c) { second = c; });
  EXPECT_TRUE(ids.claim("ch|m1", a));
  EXPECT_FALSE(ids.claim("ch|m1", b));  // b now waits on a's claim
  b->complete(errc::ok);                // b's own hold released: still waiting
  EXPECT_EQ(second, errc::internal);
  ids.release("ch|m1", errc::duplicate);
  EXPECT_EQ(second, errc::ok);
  EXPECT_TRUE(ids.claim("ch|m1", a));  // free again
  ids.release("ch|m1", errc::ok);
  a->complete(errc::ok);
  EXPECT_EQ(first, errc::ok);
}

TEST(InflightIds, AFailedFirstCopyFailsItsWaiters) {
  inflight_ids ids;
  errc seen = errc::ok;
  auto a = std::make_shared<ack_tracker>([](errc) {});
  auto b = std::make_shared<ack_tracker>([&](errc c) { seen = c; });
  ASSERT_TRUE(ids.claim("k", a));
  ASSERT_FALSE(ids.claim("k", b));
  b->complete(errc::ok);
  ids.release("k", errc::io_error);
  EXPECT_EQ(seen, errc::io_error);
}

}  // namespace
}  // namespace parley::actors
