#include "storage_writer/storage_writer.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "parley/actors/feed.hpp"
#include "parley/actors/views.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "support/temp_dir.hpp"

namespace parley::actors {
namespace {

class StorageWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::store_options options;
    options.path = dir.sub("db");
    options.master_key = storage::aead_key::random();
    options.retention = std::make_shared<storage::retention_policy>(system_clock::instance());
    auto opened = storage::store::open(std::move(options));
    ASSERT_TRUE(opened.ok());
    db = std::shared_ptr<storage::store>(std::move(*opened));
    ASSERT_TRUE(db->create_tenant_key("t").ok());
    group = std::make_shared<storage::group_writer>(*db, storage::group_writer_options{});
    writer = storage_writer(group);
  }
  void TearDown() override { group->stop(); }

  static storage::write_group message(std::uint64_t seq) {
    storage::write_group g;
    auto key = storage::key_builder().str("t").str("ct").u64(seq).take();
    g.ops.push_back(storage::write_op::put(storage::family::messages, key, "body" + std::to_string(seq), true));
    g.ops.push_back(storage::write_op::put(storage::family::dedup, "ch/" + std::to_string(seq), key));
    g.if_absent.push_back(storage::guard{storage::family::dedup, "ch/" + std::to_string(seq)});
    return g;
  }

  errc append_and_wait(storage::write_group g) {
    std::promise<errc> done;
    writer.append(std::move(g), [&](storage::commit_outcome o) { done.set_value(o.code); });
    return done.get_future().get();
  }

  parley::testing::temp_dir dir;
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::group_writer> group;
  storage_writer writer;
};

TEST_F(StorageWriter, AppendsFromManyThreadsAreCommittedAndCompleted) {
  constexpr int threads = 8, per_thread = 50;
  std::vector<std::thread> senders;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        if (append_and_wait(message(static_cast<std::uint64_t>(t * per_thread + i))) == errc::ok) ++ok;
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(ok.load(), threads * per_thread);
  auto rec = db->get(storage::family::messages, storage::key_builder().str("t").str("ct").u64(7).take());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->body, "body7");
}

TEST_F(StorageWriter, ARepeatedAppendIsReportedAsDuplicate) {
  EXPECT_EQ(append_and_wait(message(1)), errc::ok);
  EXPECT_EQ(append_and_wait(message(1)), errc::duplicate);
}

TEST_F(StorageWriter, EncodingErrorsCompleteTheAppendWithTheError) {
  storage::write_group g;
  g.ops.push_back(storage::write_op::put(storage::family::messages, storage::key_builder().str("no-key").u64(1).take(), "x", true));
  EXPECT_EQ(append_and_wait(std::move(g)), errc::key_destroyed);
  EXPECT_EQ(db->get(storage::family::messages, storage::key_builder().str("no-key").u64(1).take()).code(), errc::not_found);
}

TEST_F(StorageWriter, AppendsAfterStopCompleteWithShuttingDownOnTheCallersThread) {
  group->stop();
  auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  errc code = errc::ok;
  writer.append(message(2), [&](storage::commit_outcome o) {
    ran_on = std::this_thread::get_id();
    code = o.code;
  });
  EXPECT_EQ(code, errc::shutting_down);
  EXPECT_EQ(ran_on, caller);
  EXPECT_FALSE(group->healthy());
}

TEST_F(StorageWriter, AnEmptyHandleRefusesEveryAppend) {
  storage_writer none;
  EXPECT_FALSE(none);
  errc code = errc::ok;
  none.append(message(3), [&](storage::commit_outcome o) { code = o.code; });
  EXPECT_EQ(code, errc::shutting_down);
}

// The event feed shows only durable events: one that is written but whose WAL sync has
// not completed could still be lost by a crash and its number handed out again.
TEST_F(StorageWriter, TheFeedStopsAtTheLastDurableEvent) {
  group->stop();
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  std::atomic<bool> first{true};
  storage::group_writer_options options;
  options.pipeline = storage::sync_pipeline::always;
  options.on_commit = [&](const storage::commit_stats&) {  // on the sync thread, after a sync
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
  };
  auto held = std::make_shared<storage::group_writer>(*db, options);
  storage_writer w(held);
  auto event = [](const std::string& id) {
    std::vector<storage::sequenced_op> seq{storage::sequenced_op{storage::write_op::put(
        storage::family::events, storage::event_prefix("t"), R"({"type":"test","at":1,"data":{"n":")" + id + "\"}}", true)}};
    return seq;
  };
  w.append({}, [](storage::commit_outcome) {}, event("1"));
  entered.get_future().wait();  // event 1 is durable; the sync thread is held
  std::promise<errc> second;
  w.append({}, [&](storage::commit_outcome o) { second.set_value(o.code); }, event("2"));
  auto key2 = storage::event_prefix("t") + storage::key_builder(8).u64(2).take();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db->get(storage::family::events, key2).code() == errc::not_found && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(db->get(storage::family::events, key2).ok());  // written, not yet durable

  auto bounded = read_event_page(*db, "t", 0, 10, held.get());
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->count, 1u);
  EXPECT_EQ(bounded->last, 1u);
  EXPECT_EQ(newest_event(*db, "t", held.get()).value(), 1u);
  EXPECT_EQ(read_event_page(*db, "t", 1, 10, held.get())->count, 0u);
  EXPECT_EQ(read_event_page(*db, "t", 0, 10)->count, 2u);  // without the writer: everything stored

  release.set_value();
  EXPECT_EQ(second.get_future().get(), errc::ok);
  EXPECT_EQ(read_event_page(*db, "t", 0, 10, held.get())->count, 2u);
  EXPECT_EQ(newest_event(*db, "t", held.get()).value(), 2u);
  held->stop();
}

}  // namespace
}  // namespace parley::actors
