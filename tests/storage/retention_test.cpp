#include "parley/storage/retention.hpp"

#include <gtest/gtest.h>

#include "parley/storage/keys.hpp"
#include "parley/storage/store.hpp"
#include "support/store_fixture.hpp"

namespace parley::storage {
namespace {

using parley::testing::store_fixture;

class Retention : public store_fixture {
 protected:
  std::string key(std::string_view tenant, std::uint64_t seq) {
    return key_builder().str(tenant).str("ct_a").u64(seq).take();
  }
  void put(family f, std::string k) {
    std::vector<write_op> ops = {write_op::put(f, std::move(k), "body")};
    ASSERT_TRUE(db->write(ops, true).ok());
  }
  std::uint64_t physical(family f, std::string_view tenant) {
    return db->count_physical(f, key_builder().str(tenant).take()).value();
  }
};

TEST_F(Retention, ExpiredRecordsAreNeverReturnedEvenBeforeCompaction) {
  retention->set_tenant("short", tenant_retention{1, 1, 1});
  put(family::messages, key("short", 1));
  time.advance(ms_per_day - 1);
  EXPECT_TRUE(db->get(family::messages, key("short", 1)).ok());
  time.advance(1);
  EXPECT_EQ(db->get(family::messages, key("short", 1)).code(), errc::not_found);
  EXPECT_TRUE(db->read_reverse(family::messages, key_builder().str("short").take(), {}, 10)->empty());
  record rec;
  EXPECT_FALSE(db->scan(family::messages, key_builder().str("short").take())->next(rec));
  // Still physically there until compaction runs.
  EXPECT_EQ(physical(family::messages, "short"), 1u);
}

TEST_F(Retention, CompactionPhysicallyRemovesExpiredRecordsOnly) {
  retention->set_tenant("short", tenant_retention{1, 1, 1});
  retention->set_tenant("long", tenant_retention{30, 30, 30});
  for (std::uint64_t i = 0; i < 100; ++i) {
    put(family::messages, key("short", i));
    put(family::messages, key("long", i));
  }
  ASSERT_TRUE(db->flush().ok());
  time.advance(2 * ms_per_day);
  ASSERT_TRUE(db->compact(family::messages).ok());
  EXPECT_EQ(physical(family::messages, "short"), 0u);
  EXPECT_EQ(physical(family::messages, "long"), 100u);
}

TEST_F(Retention, ZeroDaysKeepsForever) {
  put(family::messages, key("default", 1));  // default messages_days is 0
  time.advance(10 * 365 * ms_per_day);
  ASSERT_TRUE(db->flush().ok());
  ASSERT_TRUE(db->compact(family::messages).ok());
  EXPECT_TRUE(db->get(family::messages, key("default", 1)).ok());
}

TEST_F(Retention, ChangingRetentionAppliesToExistingRecords) {
  put(family::messages, key("t", 1));
  time.advance(5 * ms_per_day);
  EXPECT_TRUE(db->get(family::messages, key("t", 1)).ok());
  retention->set_tenant("t", tenant_retention{3, 90, 7});
  EXPECT_EQ(db->get(family::messages, key("t", 1)).code(), errc::not_found);
  retention->set_tenant("t", tenant_retention{10, 90, 7});
  EXPECT_TRUE(db->get(family::messages, key("t", 1)).ok());
}

TEST_F(Retention, EachFamilyUsesItsOwnLifetime) {
  retention->set_tenant("t", tenant_retention{0, 2, 1});
  put(family::messages, key("t", 1));
  put(family::raw_webhooks, key("t", 1));
  put(family::events, key("t", 1));
  put(family::conversations, key("t", 1));
  time.advance(ms_per_day);
  EXPECT_EQ(db->get(family::events, key("t", 1)).code(), errc::not_found);
  EXPECT_TRUE(db->get(family::raw_webhooks, key("t", 1)).ok());
  time.advance(ms_per_day);
  EXPECT_EQ(db->get(family::raw_webhooks, key("t", 1)).code(), errc::not_found);
  EXPECT_TRUE(db->get(family::messages, key("t", 1)).ok());
  EXPECT_TRUE(db->get(family::conversations, key("t", 1)).ok());
}

TEST_F(Retention, DedupKeysLiveForTheDedupWindow) {
  put(family::dedup, "ch_x/wamid.1");
  time.advance(168 * 3'600'000LL - 1);
  EXPECT_TRUE(db->get(family::dedup, "ch_x/wamid.1").ok());
  time.advance(1);
  EXPECT_EQ(db->get(family::dedup, "ch_x/wamid.1").code(), errc::not_found);
}

// ---- the retention sweep and purges: physical removal, checked in the SST files ----

TEST_F(Retention, SweepCompactsFilesHoldingExpiredRecordsUntilNoneRemainOnDisk) {
  retention->set_tenant("short", tenant_retention{1, 1, 1});
  retention->set_tenant("long", tenant_retention{30, 30, 30});
  for (std::uint64_t i = 0; i < 100; ++i) put(family::messages, key("short", i));
  ASSERT_TRUE(db->flush().ok());
  for (std::uint64_t i = 0; i < 100; ++i) put(family::messages, key("long", i));
  ASSERT_TRUE(db->flush().ok());

  auto early = db->compact_expired();
  ASSERT_TRUE(early.ok()) << early.err().message;
  EXPECT_EQ(early->ranges_compacted, 0u);  // nothing can have expired yet: no work
  EXPECT_GE(early->files_checked, 2u);

  time.advance(2 * ms_per_day);
  auto swept = db->compact_expired();
  ASSERT_TRUE(swept.ok()) << swept.err().message;
  EXPECT_GE(swept->ranges_compacted, 1u);
  EXPECT_EQ(db->count_in_files(family::messages, key_builder().str("short").take()).value(), 0u);
  EXPECT_EQ(db->count_in_files(family::messages, key_builder().str("long").take()).value(), 100u);

  // What is left cannot expire for another 28 days: the next sweep does nothing.
  auto again = db->compact_expired();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ranges_compacted, 0u);
}

TEST_F(Retention, SweepFollowsARetentionShortenedAfterTheRecordsWereStored) {
  for (std::uint64_t i = 0; i < 50; ++i) {
    put(family::messages, key("t", i));
    put(family::raw_webhooks, key("t", i));
    put(family::events, key("t", i));
  }
  time.advance(10 * ms_per_day);
  // Defaults: messages forever, raw 90 days, events 7 days: only events can go.
  ASSERT_TRUE(db->compact_expired().ok());
  auto prefix = key_builder().str("t").take();
  EXPECT_EQ(db->count_in_files(family::events, prefix).value(), 0u);
  EXPECT_EQ(db->count_in_files(family::messages, prefix).value(), 50u);
  EXPECT_EQ(db->count_in_files(family::raw_webhooks, prefix).value(), 50u);

  retention->set_tenant("t", tenant_retention{5, 5, 5});
  ASSERT_TRUE(db->compact_expired().ok());
  EXPECT_EQ(db->count_in_files(family::messages, prefix).value(), 0u);
  EXPECT_EQ(db->count_in_files(family::raw_webhooks, prefix).value(), 0u);
}

TEST_F(Retention, DedupKeysArePhysicallyRemovedAfterTheWindow) {
  for (int i = 0; i < 20; ++i) put(family::dedup, key_builder().str("ch_x").str("wamid." + std::to_string(i)).take());
  time.advance(169 * 3'600'000LL);
  ASSERT_TRUE(db->compact_expired().ok());
  EXPECT_EQ(db->count_in_files(family::dedup, key_builder().str("ch_x").take()).value(), 0u);
}

TEST_F(Retention, RangeEraseHidesEveryKeyOfThePrefixAtOnce) {
  for (std::uint64_t i = 0; i < 30; ++i) {
    put(family::messages, key("gone", i));
    put(family::messages, key("kept", i));
  }
  std::vector<write_op> ops = {write_op::remove_prefix(family::messages, key_builder().str("gone").take())};
  ASSERT_TRUE(db->write(ops, true).ok());
  EXPECT_TRUE(db->read_forward(family::messages, key_builder().str("gone").take(), {}, 100)->empty());
  EXPECT_EQ(db->read_forward(family::messages, key_builder().str("kept").take(), {}, 100)->size(), 30u);
  EXPECT_EQ(db->get(family::messages, key("gone", 3)).code(), errc::not_found);
}

TEST_F(Retention, PurgePrefixLeavesNothingOfItInTheFiles) {
  for (int round = 0; round < 3; ++round) {  // spread over several files and levels
    for (std::uint64_t i = 0; i < 200; ++i) {
      put(family::messages, key("gone", round * 1000 + i));
      put(family::messages, key("kept", round * 1000 + i));
    }
    ASSERT_TRUE(db->flush().ok());
  }
  auto gone = key_builder().str("gone").take();
  EXPECT_EQ(db->count_in_files(family::messages, gone).value(), 600u);
  ASSERT_TRUE(db->purge_prefix(family::messages, gone).ok());
  EXPECT_EQ(db->count_in_files(family::messages, gone).value(), 0u);
  EXPECT_EQ(db->count_in_files(family::messages, key_builder().str("kept").take()).value(), 600u);
  EXPECT_EQ(db->count_physical(family::messages, key_builder().str("kept").take()).value(), 600u);
}

TEST(RetentionPolicy, UnknownTenantsGetTheDefaults) {
  manual_clock time(0);
  retention_policy policy(time);
  EXPECT_EQ(policy.lifetime_ms(family::messages, "x"), 0);
  EXPECT_EQ(policy.lifetime_ms(family::raw_webhooks, "x"), 90 * ms_per_day);
  EXPECT_EQ(policy.lifetime_ms(family::events, "x"), 7 * ms_per_day);
  policy.set_tenant("x", tenant_retention{1, 2, 3});
  EXPECT_EQ(policy.lifetime_ms(family::messages, "x"), ms_per_day);
  policy.remove_tenant("x");
  EXPECT_EQ(policy.lifetime_ms(family::messages, "x"), 0);
}

TEST(RetentionPolicy, ShortestLifetimeCoversEveryTenantAndTheDefaults) {
  manual_clock time(0);
  retention_policy policy(time);
  EXPECT_EQ(policy.shortest_lifetime_ms(family::messages), 0);  // every message kept forever
  EXPECT_EQ(policy.shortest_lifetime_ms(family::events), 7 * ms_per_day);
  policy.set_tenant("a", tenant_retention{30, 90, 2});
  policy.set_tenant("b", tenant_retention{0, 90, 0});
  EXPECT_EQ(policy.shortest_lifetime_ms(family::messages), 30 * ms_per_day);
  EXPECT_EQ(policy.shortest_lifetime_ms(family::events), 2 * ms_per_day);
}

}  // namespace
}  // namespace parley::storage
