#include "parley/storage/store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <chrono>

#include "parley/storage/keys.hpp"
#include "support/store_fixture.hpp"

namespace parley::storage {
namespace {

using parley::testing::store_fixture;

std::string msg_key(std::string_view tenant, std::string_view contact, std::uint64_t seq) {
  return key_builder().str(tenant).str(contact).u64(seq).take();
}
std::string msg_prefix(std::string_view tenant, std::string_view contact) {
  return key_builder().str(tenant).str(contact).take();
}

class Store : public store_fixture {};

TEST_F(Store, WriteThenGetReturnsSameRecord) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("acme", "ct_a", 1), "hello", true),
                               write_op::put(family::conversations, msg_prefix("acme", "ct_a"), "state")};
  ASSERT_TRUE(db->write(ops, true).ok());
  auto m = db->get(family::messages, msg_key("acme", "ct_a", 1));
  ASSERT_TRUE(m.ok()) << m.err().message;
  EXPECT_EQ(m->body, "hello");
  EXPECT_EQ(m->created_at_ms, parley::testing::test_epoch_ms);
  EXPECT_EQ(db->get(family::conversations, msg_prefix("acme", "ct_a"))->body, "state");
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 2)).code(), errc::not_found);
}

TEST_F(Store, RecordsSurviveReopen) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("acme", "ct_a", 1), "persisted", true)};
  ASSERT_TRUE(db->write(ops, true).ok());
  reopen();
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 1))->body, "persisted");
}

TEST_F(Store, ReadReverseReturnsNewestFirstWithinThePrefix) {
  std::vector<write_op> ops;
  for (std::uint64_t seq = 1; seq <= 300; ++seq) {
    ops.push_back(write_op::put(family::messages, msg_key("t1", "ct_a", seq), std::to_string(seq)));
  }
  ops.push_back(write_op::put(family::messages, msg_key("t1", "ct_ab", 1), "other contact"));
  ops.push_back(write_op::put(family::messages, msg_key("t1", "ct", 1), "other contact"));
  ASSERT_TRUE(db->write(ops, false).ok());

  auto page = db->read_reverse(family::messages, msg_prefix("t1", "ct_a"), {}, 50);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 50u);
  EXPECT_EQ(page->front().body, "300");
  EXPECT_EQ(page->back().body, "251");

  auto next = db->read_reverse(family::messages, msg_prefix("t1", "ct_a"), page->back().key, 500);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 250u);
  EXPECT_EQ(next->front().body, "250");
  EXPECT_EQ(next->back().body, "1");
}

TEST_F(Store, ScanVisitsEveryRecordOfThePrefixInOrderOnASnapshot) {
  std::vector<write_op> ops;
  for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
    ops.push_back(write_op::put(family::events, key_builder().str("t1").u64(seq).take(), std::to_string(seq)));
  }
  ops.push_back(write_op::put(family::events, key_builder().str("t2").u64(1).take(), "t2"));
  ASSERT_TRUE(db->write(ops, false).ok());
  auto cursor = db->scan(family::events, key_builder().str("t1").take());
  // Written after the cursor opened: not part of its snapshot.
  std::vector<write_op> late = {write_op::put(family::events, key_builder().str("t1").u64(5000).take(), "late")};
  ASSERT_TRUE(db->write(late, false).ok());
  record rec;
  std::uint64_t expected = 1;
  while (cursor->next(rec)) {
    ASSERT_EQ(rec.body, std::to_string(expected));
    ++expected;
  }
  EXPECT_TRUE(cursor->error().ok());
  EXPECT_EQ(expected, 1001u);
}

TEST_F(Store, MultiGetAnswersEachKey) {
  std::vector<write_op> ops = {write_op::put(family::dedup, "a", "1"), write_op::put(family::dedup, "c", "3")};
  ASSERT_TRUE(db->write(ops, false).ok());
  std::vector<std::string> keys = {"a", "b", "c"};
  auto got = db->multi_get(family::dedup, keys);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]->body, "1");
  EXPECT_EQ(got[1].code(), errc::not_found);
  EXPECT_EQ(got[2]->body, "3");
}

TEST_F(Store, SealedBodiesAreNotStoredInTheClear) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  auto encoded = db->encode(write_op::put(family::messages, msg_key("acme", "ct_a", 1), "secret-body-text", true));
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->value.find("secret-body-text"), std::string::npos);
  auto plain = db->encode(write_op::put(family::messages, msg_key("acme", "ct_a", 1), "plain-body-text", false));
  EXPECT_NE(plain->value.find("plain-body-text"), std::string::npos);
}

TEST_F(Store, MovedOrAlteredSealedRecordFailsToOpen) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  auto encoded = db->encode(write_op::put(family::messages, msg_key("acme", "ct_a", 1), "body", true));
  ASSERT_TRUE(encoded.ok());

  encoded_op moved = *encoded;
  moved.key = msg_key("acme", "ct_a", 2);
  encoded_op altered = *encoded;
  altered.key = msg_key("acme", "ct_a", 3);
  altered.value[altered.value.size() - 5] ^= 0x40;
  std::vector<encoded_op> ops = {*encoded, moved};
  ASSERT_TRUE(db->write_encoded(ops, true).ok());
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 1))->body, "body");
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 2)).code(), errc::corruption);
  // The same ciphertext under the same key but altered also fails.
  encoded_op altered_in_place = *encoded;
  altered_in_place.value[altered_in_place.value.size() - 5] ^= 0x40;
  std::vector<encoded_op> ops2 = {altered_in_place};
  ASSERT_TRUE(db->write_encoded(ops2, true).ok());
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 1)).code(), errc::corruption);
}

TEST_F(Store, SealingForATenantWithoutAKeyFails) {
  auto encoded = db->encode(write_op::put(family::messages, msg_key("nokey", "ct_a", 1), "body", true));
  EXPECT_EQ(encoded.code(), errc::key_destroyed);
  auto no_tenant = db->encode(write_op::put(family::dedup, "k", "body", true));
  EXPECT_EQ(no_tenant.code(), errc::invalid_argument);
}

TEST_F(Store, DestroyingATenantKeyMakesOnlyThatTenantUnreadable) {
  ASSERT_TRUE(db->create_tenant_key("gone").ok());
  ASSERT_TRUE(db->create_tenant_key("kept").ok());
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("gone", "ct_a", 1), "g", true),
                               write_op::put(family::messages, msg_key("kept", "ct_a", 1), "k", true)};
  ASSERT_TRUE(db->write(ops, true).ok());
  ASSERT_TRUE(db->destroy_tenant_key("gone").ok());
  EXPECT_FALSE(db->has_tenant_key("gone"));
  EXPECT_EQ(db->get(family::messages, msg_key("gone", "ct_a", 1)).code(), errc::key_destroyed);
  EXPECT_EQ(db->get(family::messages, msg_key("kept", "ct_a", 1))->body, "k");
  reopen();
  EXPECT_EQ(db->get(family::messages, msg_key("gone", "ct_a", 1)).code(), errc::key_destroyed);
  EXPECT_EQ(db->get(family::messages, msg_key("kept", "ct_a", 1))->body, "k");
  // The wrapped key itself is physically gone from the meta family.
  auto left = db->count_physical(family::meta, key_builder().u8(static_cast<std::uint8_t>(meta_kind::tenant_key)).str("gone").take());
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0u);
}

TEST_F(Store, CreateTenantKeyIsIdempotent) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("acme", "ct_a", 1), "b", true)};
  ASSERT_TRUE(db->write(ops, true).ok());
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  reopen();
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 1))->body, "b");
}

TEST_F(Store, AnotherMasterKeyCannotOpenTenantKeys) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("acme", "ct_a", 1), "b", true)};
  ASSERT_TRUE(db->write(ops, true).ok());
  master_key = aead_key::random();
  reopen();
  EXPECT_EQ(db->get(family::messages, msg_key("acme", "ct_a", 1)).code(), errc::corruption);
}

TEST_F(Store, SecondOpenOfTheSameDirectoryFails) {
  storage::store_options options;
  options.path = dir.sub("db");
  options.master_key = master_key;
  options.retention = retention;
  auto second = store::open(std::move(options));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), errc::io_error);
}

TEST_F(Store, EraseRemovesARecord) {
  std::vector<write_op> ops = {write_op::put(family::outbox, msg_key("t", "m", 1), "job")};
  ASSERT_TRUE(db->write(ops, true).ok());
  std::vector<write_op> del = {write_op::remove(family::outbox, msg_key("t", "m", 1))};
  ASSERT_TRUE(db->write(del, true).ok());
  EXPECT_EQ(db->get(family::outbox, msg_key("t", "m", 1)).code(), errc::not_found);
}

// Appends land at remembered positions of the memtable (one per conversation, tenant's
// events, activity entries, each state key); range erases go to another table. Mixed in
// one memtable, every read must still see exactly what was written.
TEST_F(Store, InterleavedAppendsAndRangeErasesReadBackExactly) {
  for (std::uint64_t seq = 1; seq <= 40; ++seq) {
    std::vector<write_op> ops;
    for (std::string contact : {"ct_a", "ct_b", "ct_c"}) {
      ops.push_back(write_op::put(family::messages, msg_key("t1", contact, seq), contact + std::to_string(seq)));
    }
    ops.push_back(write_op::put(family::events, key_builder().str("t1").u64(seq).take(), "ev"));
    ops.push_back(write_op::put(family::conversations, key_builder().str("t1").u8('c').str("ct_a").take(),
                                "state " + std::to_string(seq)));
    if (seq == 20) ops.push_back(write_op::remove_prefix(family::messages, msg_prefix("t1", "ct_b")));
    if (seq == 30) ops.push_back(write_op::remove_prefix(family::events, key_builder().str("t1").take()));
    ASSERT_TRUE(db->write(ops, false).ok());
  }
  auto a = db->read_reverse(family::messages, msg_prefix("t1", "ct_a"), {}, 100);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 40u);
  EXPECT_EQ(a->front().body, "ct_a40");
  EXPECT_EQ(a->back().body, "ct_a1");
  auto b = db->read_reverse(family::messages, msg_prefix("t1", "ct_b"), {}, 100);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 20u);  // 21..40: written after the erase in the same batch as 20 was
  EXPECT_EQ(b->back().body, "ct_b21");
  auto events = db->read_forward(family::events, key_builder().str("t1").take(), {}, 100);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 10u);  // 31..40
  EXPECT_EQ(db->get(family::conversations, key_builder().str("t1").u8('c').str("ct_a").take())->body, "state 40");
}

TEST_F(Store, ARangeEraseThatStartsInsideAConversationIsRefusedWhole) {
  std::vector<write_op> ops = {write_op::put(family::messages, msg_key("t1", "ct_a", 1), "kept out"),
                               write_op{family::messages, msg_key("t1", "ct_a", 2), {}, true, false, 0,
                                        msg_key("t1", "ct_a", 9)}};
  auto st = db->write(ops, true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), errc::invalid_argument);
  EXPECT_EQ(db->get(family::messages, msg_key("t1", "ct_a", 1)).code(), errc::not_found);
}

}  // namespace
}  // namespace parley::storage

namespace parley::storage {
namespace {

class MasterKeyCheck : public parley::testing::store_fixture {};

TEST_F(MasterKeyCheck, TheSameKeyPassesAndAnotherKeyIsRefused) {
  ASSERT_TRUE(db->check_master_key().ok());
  reopen();
  ASSERT_TRUE(db->check_master_key().ok());
  master_key = aead_key::random();
  reopen();
  EXPECT_EQ(db->check_master_key().code(), errc::unauthorized);
}

}  // namespace
}  // namespace parley::storage

namespace parley::storage {
namespace {

class EraseNow : public parley::testing::store_fixture {};

TEST_F(EraseNow, TheValueIsPhysicallyGoneNotOnlyHidden) {
  auto key = key_builder().u8(static_cast<std::uint8_t>(meta_kind::channel)).str("t").str("ch_x").take();
  std::vector<write_op> ops = {write_op::put(family::meta, key, "credentials")};
  ASSERT_TRUE(db->write(ops, true).ok());
  ASSERT_TRUE(db->flush().ok());  // the value now sits in an SST file
  ASSERT_TRUE(db->erase_now(family::meta, key).ok());
  EXPECT_EQ(db->get(family::meta, key).code(), errc::not_found);
  // No table file of the store still holds the bytes, nor a replaced file waiting in the
  // trash (obsolete files are deleted at a paced rate, in the background: wait for it).
  auto files_holding = [&] {
    std::size_t hits = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.sub("db"))) {
      auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".sst" && ext != ".trash")) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (content.find("credentials") != std::string::npos) ++hits;
    }
    return hits;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (files_holding() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the disk: no event to await
  }
  EXPECT_EQ(files_holding(), 0u);
}

class EngineStats : public parley::testing::store_fixture {};

TEST_F(EngineStats, MemtablesAndTableFilesAreReported) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops;
  for (std::uint64_t n = 0; n < 100; ++n) ops.push_back(write_op::put(family::messages, msg_key("acme", "ct_a", n), std::string(1000, 'x'), true));
  ASSERT_TRUE(db->write(ops, true).ok());
  auto before = db->stats();
  EXPECT_GT(before.memtable_bytes, 100u * 1000u);
  ASSERT_TRUE(db->flush().ok());
  auto after = db->stats();
  EXPECT_GT(after.live_sst_bytes, 100u * 1000u);  // the sealed bodies are now in a file
  EXPECT_LT(after.memtable_bytes, before.memtable_bytes);
  // RocksDB may still be finishing the flush's bookkeeping: only the bound is certain.
  EXPECT_LE(after.running_flushes + after.running_compactions, 2u);  // max_background_jobs
}

// Index and filter blocks are held in the bounded block cache, not beside each open
// table file: what history costs in memory does not grow with the history kept.
TEST_F(EngineStats, IndexAndFilterBlocksAreInTheBlockCache) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  for (std::uint64_t batch = 0; batch < 20; ++batch) {
    std::vector<write_op> ops;
    for (std::uint64_t n = 0; n < 1000; ++n) {
      ops.push_back(write_op::put(family::messages, msg_key("acme", "ct_a", batch * 1000 + n), std::string(1000, 'x'), true));
      ops.push_back(write_op::put(family::dedup, "wamid." + std::to_string(batch * 1000 + n), "ref"));
    }
    ASSERT_TRUE(db->write(ops, false).ok());
  }
  ASSERT_TRUE(db->flush().ok());
  reopen();
  auto m = db->get(family::messages, msg_key("acme", "ct_a", 12'345));
  ASSERT_TRUE(m.ok()) << m.err().message;
  EXPECT_EQ(m->body, std::string(1000, 'x'));
  EXPECT_EQ(db->get(family::dedup, "wamid.absent").code(), errc::not_found);
  auto stats = db->stats();
  // 20,000 messages and dedup keys: held beside the table files (as before 2026-12-02),
  // their indexes and filters took ~210 KB here; now the two files' readers keep ~6 KB.
  EXPECT_LT(stats.table_reader_bytes, 16u * 1024u);
  EXPECT_GT(stats.block_cache_bytes, 0u);
}

class Maintenance : public parley::testing::store_fixture {};

TEST_F(Maintenance, AHoldLimitsBackgroundWritesToTheRatePlusLiveWritesUntilTheLastIsReleased) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  EXPECT_EQ(db->stats().background_write_limit, 0u);  // no hold: unlimited
  const std::uint64_t rate = store_options{}.maintenance_write_bytes_per_second;
  // Live writes while the first hold measures them (it samples for 250 ms).
  std::atomic<bool> writing{true};
  std::thread live([&] {
    for (std::uint64_t n = 0; writing; ++n) {
      std::vector<write_op> ops = {write_op::put(family::messages, msg_key("acme", "ct_live", n), std::string(4000, 'x'), true)};
      ASSERT_TRUE(db->write(ops, false).ok());
    }
  });
  {
    auto outer = db->hold_maintenance();
    writing = false;
    live.join();
    auto limit = db->stats().background_write_limit;
    EXPECT_GT(limit, rate);  // the maintenance rate and an allowance for what live traffic wrote
    {
      auto inner = db->hold_maintenance();  // nested: leaves the limit alone
      EXPECT_EQ(db->stats().background_write_limit, limit);
    }
    EXPECT_GT(db->stats().background_write_limit, 0u);  // the outer hold still holds
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    outer.refresh();  // counts the writes that finished after the first sample
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // a measurable interval without writes
    outer.refresh();
    EXPECT_EQ(db->stats().background_write_limit, rate);  // nothing written since: the rate alone
  }
  EXPECT_EQ(db->stats().background_write_limit, 0u);
}

TEST_F(Maintenance, AHoldSlowsFlushesToTheRateEvenAfterUnlimitedWrites) {
  constexpr std::uint64_t rate = 2u << 20;  // 2 MiB/s
  db.reset();
  store_options options;
  options.path = dir.sub("slow");
  options.master_key = master_key;
  options.retention = retention;
  options.maintenance_write_bytes_per_second = rate;
  auto opened = store::open(std::move(options));
  ASSERT_TRUE(opened.ok()) << opened.err().message;
  auto& slow = **opened;
  ASSERT_TRUE(slow.create_tenant_key("acme").ok());
  auto write_mib = [&](std::uint64_t first, int mib) {
    std::vector<write_op> ops;
    for (std::uint64_t n = first; n < first + static_cast<std::uint64_t>(mib) * 256; ++n) {
      ops.push_back(write_op::put(family::messages, msg_key("acme", "ct_a", n), std::string(4096, 'x'), true));
    }
    ASSERT_TRUE(slow.write(ops, false).ok());
  };
  // An unlimited flush first: a limiter that merely switched rates would still hold the
  // quota it was given at the unlimited rate, and the flush below would not wait.
  write_mib(0, 2);
  ASSERT_TRUE(slow.flush().ok());
  write_mib(1'000'000, 3);
  auto hold = slow.hold_maintenance();  // nothing written while it samples: the rate alone
  EXPECT_EQ(slow.stats().background_write_limit, rate);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.flush().ok());
  // 3 MiB at 2 MiB/s: about 1.5 s. Unlimited, it takes a few milliseconds.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
}

TEST_F(Maintenance, TheLimitFollowsLiveWritesDuringALongHoldWithoutRefresh) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  const std::uint64_t rate = store_options{}.maintenance_write_bytes_per_second;
  auto hold = db->hold_maintenance();
  EXPECT_EQ(db->stats().background_write_limit, rate);  // nothing written while it sampled
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<write_op> ops;
  for (std::uint64_t n = 0; n < 512; ++n) {
    ops.push_back(write_op::put(family::messages, msg_key("acme", "ct_a", n), std::string(4096, 'x'), true));
  }
  ASSERT_TRUE(db->write(ops, false).ok());
  // The flush's own writes ask the limiter, which measures the live rate again.
  ASSERT_TRUE(db->flush().ok());
  EXPECT_GT(db->stats().background_write_limit, rate);
}

TEST_F(Maintenance, PurgeAndCompactionsReleaseTheirHolds) {
  ASSERT_TRUE(db->create_tenant_key("acme").ok());
  std::vector<write_op> ops;
  for (std::uint64_t n = 0; n < 50; ++n) ops.push_back(write_op::put(family::messages, msg_key("acme", "ct_a", n), "x", true));
  ASSERT_TRUE(db->write(ops, true).ok());
  ASSERT_TRUE(db->purge_prefix(family::messages, key_builder().str("acme").take()).ok());
  ASSERT_TRUE(db->compact_range(family::messages, "a", "b").ok());
  ASSERT_TRUE(db->compact_expired().ok());
  EXPECT_EQ(db->stats().background_write_limit, 0u);
  EXPECT_EQ(db->count_physical(family::messages, key_builder().str("acme").take()).value(), 0u);
}

}  // namespace
}  // namespace parley::storage
