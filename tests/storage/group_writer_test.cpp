#include "parley/storage/group_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "parley/storage/keys.hpp"
#include "support/store_fixture.hpp"

namespace parley::storage {
namespace {

using parley::testing::store_fixture;

// Holds the writer inside its first commit until released, so the test decides what
// accumulates in the queue meanwhile. (on_commit runs on the writer's own thread only
// when it syncs the batch itself: the tests that hold the writer this way turn the
// pipeline off.)
struct commit_gate {
  std::promise<void> entered;
  std::shared_future<void> release;
  std::atomic<bool> first{true};
  std::vector<commit_stats> seen;
  std::mutex mutex;

  explicit commit_gate(std::shared_future<void> r) : release(std::move(r)) {}
  void operator()(const commit_stats& s) {
    {
      std::lock_guard lock(mutex);
      seen.push_back(s);
    }
    if (first.exchange(false)) {
      entered.set_value();
      release.wait();
    }
  }
};

write_group message(std::string_view tenant, std::uint64_t seq, std::string body) {
  write_group g;
  g.ops.push_back(write_op::put(family::messages, key_builder().str(tenant).str("ct").u64(seq).take(), std::move(body)));
  return g;
}

write_group deduped(std::string provider_id, std::uint64_t seq) {
  write_group g = message("t", seq, "m" + std::to_string(seq));
  g.ops.push_back(write_op::put(family::dedup, "ch_1/" + provider_id, "ref" + std::to_string(seq)));
  g.if_absent.push_back(guard{family::dedup, "ch_1/" + provider_id});
  return g;
}

class GroupWriter : public store_fixture {};

TEST_F(GroupWriter, ConcurrentAppendersAreAllToldAndAllStored) {
  group_writer writer(*db, group_writer_options{});
  constexpr int threads = 16, per_thread = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < threads; ++t) {
    appenders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::promise<errc> done;
        auto seq = static_cast<std::uint64_t>(t * per_thread + i);
        ASSERT_TRUE(writer.submit(message("t", seq, std::to_string(seq)), [&](commit_outcome o) { done.set_value(o.code); }).ok());
        if (done.get_future().get() == errc::ok) ++ok;
      }
    });
  }
  for (auto& a : appenders) a.join();
  EXPECT_EQ(ok.load(), threads * per_thread);
  auto all = db->read_reverse(family::messages, key_builder().str("t").str("ct").take(), {}, 100000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(threads * per_thread));
}

TEST_F(GroupWriter, AppendsThatArriveDuringACommitShareOneBatch) {
  std::promise<void> release;
  auto gate = std::make_shared<commit_gate>(release.get_future().share());
  group_writer_options options;
  options.pipeline = sync_pipeline::off;
  options.on_commit = [gate](const commit_stats& s) { (*gate)(s); };
  group_writer writer(*db, options);

  std::atomic<int> done{0};
  auto count = [&](commit_outcome o) { if (o.code == errc::ok) ++done; };
  ASSERT_TRUE(writer.submit(message("t", 0, "first"), count).ok());
  gate->entered.get_future().wait();
  for (std::uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE(writer.submit(message("t", i, "x"), count).ok());
  release.set_value();
  writer.stop();
  EXPECT_EQ(done.load(), 51);
  std::lock_guard lock(gate->mutex);
  ASSERT_EQ(gate->seen.size(), 2u);
  EXPECT_EQ(gate->seen[0].groups, 1u);
  EXPECT_EQ(gate->seen[1].groups, 50u);
  EXPECT_EQ(gate->seen[1].records, 50u);
}

TEST_F(GroupWriter, DuplicateGuardsStoreEachProviderIdOnce) {
  std::promise<void> release;
  auto gate = std::make_shared<commit_gate>(release.get_future().share());
  group_writer_options options;
  options.pipeline = sync_pipeline::off;
  options.on_commit = [gate](const commit_stats& s) { (*gate)(s); };
  group_writer writer(*db, options);

  std::vector<std::promise<commit_outcome>> results(4);
  auto record_into = [&](std::size_t i) { return [&results, i](commit_outcome o) { results[i].set_value(std::move(o)); }; };
  ASSERT_TRUE(writer.submit(deduped("wamid.A", 1), record_into(0)).ok());
  gate->entered.get_future().wait();
  // Same id twice within one batch, and the id of the committed first group again.
  ASSERT_TRUE(writer.submit(deduped("wamid.B", 2), record_into(1)).ok());
  ASSERT_TRUE(writer.submit(deduped("wamid.B", 3), record_into(2)).ok());
  ASSERT_TRUE(writer.submit(deduped("wamid.A", 4), record_into(3)).ok());
  release.set_value();
  writer.stop();

  EXPECT_EQ(results[0].get_future().get().code, errc::ok);
  EXPECT_EQ(results[1].get_future().get().code, errc::ok);
  auto dup_in_batch = results[2].get_future().get();
  EXPECT_EQ(dup_in_batch.code, errc::duplicate);
  EXPECT_EQ(dup_in_batch.existing, "ref2");
  auto dup_stored = results[3].get_future().get();
  EXPECT_EQ(dup_stored.code, errc::duplicate);
  EXPECT_EQ(dup_stored.existing, "ref1");
  // Duplicates wrote nothing, not even their message records.
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("ct").u64(3).take()).code(), errc::not_found);
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("ct").u64(4).take()).code(), errc::not_found);
}

TEST_F(GroupWriter, DuplicatesAreRecognizedAfterRestartAndExpireWithTheWindow) {
  {
    group_writer writer(*db, group_writer_options{});
    std::promise<errc> done;
    ASSERT_TRUE(writer.submit(deduped("wamid.R", 1), [&](commit_outcome o) { done.set_value(o.code); }).ok());
    EXPECT_EQ(done.get_future().get(), errc::ok);
  }
  reopen();
  group_writer writer(*db, group_writer_options{});
  auto submit = [&](std::uint64_t seq) {
    std::promise<errc> done;
    EXPECT_TRUE(writer.submit(deduped("wamid.R", seq), [&](commit_outcome o) { done.set_value(o.code); }).ok());
    return done.get_future().get();
  };
  EXPECT_EQ(submit(2), errc::duplicate);
  time.advance(169 * 3'600'000LL);  // past the default 168 h dedup window
  EXPECT_EQ(submit(3), errc::ok);
}

TEST_F(GroupWriter, AFullQueueAnswersOverloadedAndStoresNothing) {
  std::promise<void> release;
  auto gate = std::make_shared<commit_gate>(release.get_future().share());
  group_writer_options options;
  options.max_pending_groups = 2;
  options.pipeline = sync_pipeline::off;
  options.on_commit = [gate](const commit_stats& s) { (*gate)(s); };
  group_writer writer(*db, options);
  auto ignore = [](commit_outcome) {};
  ASSERT_TRUE(writer.submit(message("t", 0, "a"), ignore).ok());
  gate->entered.get_future().wait();
  ASSERT_TRUE(writer.submit(message("t", 1, "b"), ignore).ok());
  ASSERT_TRUE(writer.submit(message("t", 2, "c"), ignore).ok());
  auto refused = writer.submit(message("t", 3, "d"), ignore);
  EXPECT_EQ(refused.code(), errc::overloaded);
  release.set_value();
  writer.stop();
  EXPECT_TRUE(db->get(family::messages, key_builder().str("t").str("ct").u64(2).take()).ok());
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("ct").u64(3).take()).code(), errc::not_found);
}

TEST_F(GroupWriter, StopCommitsWhatWasAcceptedAndRefusesMore) {
  group_writer writer(*db, group_writer_options{});
  std::atomic<int> done{0};
  for (std::uint64_t i = 0; i < 200; ++i) {
    ASSERT_TRUE(writer.submit(message("t", i, "x"), [&](commit_outcome o) { if (o.code == errc::ok) ++done; }).ok());
  }
  writer.stop();
  EXPECT_EQ(done.load(), 200);
  EXPECT_EQ(writer.submit(message("t", 999, "x"), [](commit_outcome) {}).code(), errc::shutting_down);
}

TEST_F(GroupWriter, AGroupThatCannotBeEncodedIsRefusedWhole) {
  group_writer writer(*db, group_writer_options{});
  write_group g = message("t", 1, "x");
  g.ops.push_back(write_op::put(family::messages, key_builder().str("nokey").str("ct").u64(1).take(), "y", true));
  EXPECT_EQ(writer.submit(std::move(g), [](commit_outcome) { FAIL() << "must not be called"; }).code(),
            errc::key_destroyed);
  writer.stop();
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("ct").u64(1).take()).code(), errc::not_found);
}

}  // namespace
}  // namespace parley::storage

namespace parley::storage {
namespace {

class GroupWriterParts : public parley::testing::store_fixture {
 protected:
  commit_outcome submit_and_wait(group_writer& writer, write_group g, std::vector<sequenced_op> seq = {}) {
    std::promise<commit_outcome> done;
    EXPECT_TRUE(writer.submit(std::move(g), std::move(seq), [&](commit_outcome o) { done.set_value(std::move(o)); }).ok());
    return done.get_future().get();
  }
  // A group of two messages, each guarded by its own dedup key over its own two ops.
  static write_group two_messages(const std::string& a, const std::string& b) {
    write_group g;
    for (const auto& id : {a, b}) {
      std::size_t first = g.ops.size();
      g.ops.push_back(write_op::put(family::messages, key_builder().str("t").str(id).take(), "msg " + id));
      g.ops.push_back(write_op::put(family::dedup, "ch/" + id, "ref " + id));
      g.if_absent.push_back(guard{family::dedup, "ch/" + id, first, 2});
    }
    g.ops.push_back(write_op::put(family::conversations, key_builder().str("t").str("state").take(), "state"));
    return g;
  }
};

TEST_F(GroupWriterParts, ARangedGuardSkipsOnlyItsOwnOps) {
  group_writer writer(*db, group_writer_options{});
  auto first = submit_and_wait(writer, two_messages("m1", "m2"));
  EXPECT_EQ(first.code, errc::ok);
  EXPECT_TRUE(first.skipped.empty());
  auto second = submit_and_wait(writer, two_messages("m2", "m3"));
  EXPECT_EQ(second.code, errc::ok);
  ASSERT_EQ(second.skipped, std::vector<std::size_t>{0});
  EXPECT_EQ(second.skipped_existing[0], "ref m2");
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("m3").take())->body, "msg m3");
  EXPECT_EQ(db->get(family::dedup, "ch/m2")->body, "ref m2");
}

TEST_F(GroupWriterParts, SequencedOpsNumberInCommitOrderAndNeverReuseAcrossRestarts) {
  ASSERT_TRUE(db->create_tenant_key("t").ok());
  auto prefix = key_builder().str("t").take();
  auto event = [&](std::string body) {
    return std::vector<sequenced_op>{sequenced_op{write_op::put(family::events, prefix, std::move(body), true)}};
  };
  {
    group_writer writer(*db, group_writer_options{});
    EXPECT_EQ(submit_and_wait(writer, {}, event("e1")).sequences, std::vector<std::uint64_t>{1});
    EXPECT_EQ(submit_and_wait(writer, {}, event("e2")).sequences, std::vector<std::uint64_t>{2});
  }
  // Even after every event expired and was compacted away, numbers go on from 3.
  retention->set_tenant("t", tenant_retention{0, 90, 1});
  time.advance(2 * ms_per_day);
  ASSERT_TRUE(db->flush().ok());
  ASSERT_TRUE(db->compact(family::events).ok());
  ASSERT_EQ(db->count_physical(family::events, prefix).value(), 0u);
  reopen();
  group_writer writer(*db, group_writer_options{});
  auto third = submit_and_wait(writer, {}, event("e3"));
  ASSERT_EQ(third.sequences, std::vector<std::uint64_t>{3});
  auto rec = db->get(family::events, prefix + key_builder().u64(3).take());
  ASSERT_TRUE(rec.ok()) << rec.err().message;
  EXPECT_EQ(rec->body, "e3");
}

// Pipelined sync: a batch is readable once written, but its appenders hear of it (and
// feed readers see its numbers) only after the WAL sync that covers it.
TEST_F(GroupWriterParts, PipelinedSyncReportsABatchOnlyAfterItsSyncAndBoundsTheFeed) {
  ASSERT_TRUE(db->create_tenant_key("t").ok());
  auto prefix = key_builder().str("t").take();
  auto event = [&](std::string body) {
    return std::vector<sequenced_op>{sequenced_op{write_op::put(family::events, prefix, std::move(body), true)}};
  };
  std::promise<void> release;
  auto gate = std::make_shared<commit_gate>(release.get_future().share());
  group_writer_options options;
  options.pipeline = sync_pipeline::always;  // e1 is pipelined although nothing waits behind it
  options.on_commit = [gate](const commit_stats& s) { (*gate)(s); };  // holds the sync thread
  group_writer writer(*db, options);

  std::promise<commit_outcome> first, second;
  ASSERT_TRUE(writer.submit({}, event("e1"), [&](commit_outcome o) { first.set_value(std::move(o)); }).ok());
  gate->entered.get_future().wait();  // e1 is synced; its completion waits at the gate
  EXPECT_EQ(writer.durable_bound(family::events, prefix), std::nullopt);

  std::atomic<bool> second_told{false};
  ASSERT_TRUE(writer.submit({}, event("e2"), [&](commit_outcome o) {
    second_told = true;
    second.set_value(std::move(o));
  }).ok());
  // The writer thread is free: e2 gets written (readable) while the sync thread is held.
  auto e2_key = prefix + key_builder().u64(2).take();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db->get(family::events, e2_key).code() == errc::not_found && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(db->get(family::events, e2_key).ok());
  EXPECT_FALSE(second_told.load());
  EXPECT_EQ(writer.durable_bound(family::events, prefix), std::optional<std::uint64_t>(1));

  release.set_value();
  EXPECT_EQ(first.get_future().get().sequences, std::vector<std::uint64_t>{1});
  auto e2 = second.get_future().get();
  EXPECT_EQ(e2.code, errc::ok);
  EXPECT_EQ(e2.sequences, std::vector<std::uint64_t>{2});
  EXPECT_EQ(writer.durable_bound(family::events, prefix), std::nullopt);
  writer.stop();
  std::lock_guard lock(gate->mutex);
  ASSERT_EQ(gate->seen.size(), 2u);  // in order, one report per batch
  EXPECT_EQ(gate->seen[1].records, 1u);  // e2
}

TEST_F(GroupWriterParts, WithoutPipelinedSyncEveryReadableNumberIsDurable) {
  ASSERT_TRUE(db->create_tenant_key("t").ok());
  auto prefix = key_builder().str("t").take();
  group_writer_options options;
  options.pipeline = sync_pipeline::off;
  group_writer writer(*db, options);
  std::vector<sequenced_op> seq{sequenced_op{write_op::put(family::events, prefix, "e1", true)}};
  EXPECT_EQ(submit_and_wait(writer, {}, std::move(seq)).sequences, std::vector<std::uint64_t>{1});
  EXPECT_EQ(writer.durable_bound(family::events, prefix), std::nullopt);
  EXPECT_TRUE(writer.healthy());
  writer.stop();
  EXPECT_FALSE(writer.healthy());
}

TEST_F(GroupWriterParts, ASequencedOpGuardedByADuplicateIsNotWritten) {
  group_writer writer(*db, group_writer_options{});
  auto prefix = key_builder().str("t").take();
  auto with_event = [&](const std::string& id) {
    std::vector<sequenced_op> seq{sequenced_op{write_op::put(family::events, prefix, "event " + id), 0}};
    return seq;
  };
  auto a = submit_and_wait(writer, two_messages("x1", "x2"), with_event("x1"));
  EXPECT_EQ(a.sequences, std::vector<std::uint64_t>{1});
  auto b = submit_and_wait(writer, two_messages("x1", "x9"), with_event("x1"));
  EXPECT_EQ(b.sequences, std::vector<std::uint64_t>{0});
  EXPECT_EQ(db->count_physical(family::events, prefix).value(), 1u);
}

}  // namespace
}  // namespace parley::storage

namespace parley::storage {
namespace {

class GroupWriterSameGroup : public parley::testing::store_fixture {};

// Found end to end: the same provider id twice in one webhook body was stored twice,
// because a ranged guard did not see the ops of an earlier part of its own group.
TEST_F(GroupWriterSameGroup, TheSameGuardKeyTwiceInOneGroupKeepsOnlyTheFirst) {
  group_writer writer(*db, group_writer_options{});
  write_group g;
  for (std::string msg : {"first", "second"}) {
    std::size_t first = g.ops.size();
    g.ops.push_back(write_op::put(family::messages, key_builder().str("t").str(msg).take(), msg));
    g.ops.push_back(write_op::put(family::dedup, "ch/same", msg));
    g.if_absent.push_back(guard{family::dedup, "ch/same", first, 2});
  }
  std::promise<commit_outcome> done;
  ASSERT_TRUE(writer.submit(std::move(g), [&](commit_outcome o) { done.set_value(std::move(o)); }).ok());
  auto outcome = done.get_future().get();
  EXPECT_EQ(outcome.code, errc::ok);
  EXPECT_EQ(outcome.skipped, std::vector<std::size_t>{1});
  EXPECT_TRUE(db->get(family::messages, key_builder().str("t").str("first").take()).ok());
  EXPECT_EQ(db->get(family::messages, key_builder().str("t").str("second").take()).code(), errc::not_found);
  EXPECT_EQ(db->get(family::dedup, "ch/same")->body, "first");
}

}  // namespace
}  // namespace parley::storage
