#include "storage_writer/storage_writer_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "parley/actors/system.hpp"
#include "parley/storage/keys.hpp"
#include "support/temp_dir.hpp"

namespace parley::actors {
namespace {

class StorageWriterActor : public ::testing::Test {
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
    writer = std::make_shared<storage::group_writer>(*db, storage::group_writer_options{});
    runtime = std::make_unique<actor_runtime>(system_options{});
    actor = spawn_storage_writer(runtime->system(), db, writer);
  }
  void TearDown() override {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    actor = nullptr;
    runtime.reset();
    writer->stop();
  }

  static storage::write_group message(std::uint64_t seq) {
    storage::write_group g;
    auto key = storage::key_builder().str("t").str("ct").u64(seq).take();
    g.ops.push_back(storage::write_op::put(storage::family::messages, key, "body" + std::to_string(seq), true));
    g.ops.push_back(storage::write_op::put(storage::family::dedup, "ch/" + std::to_string(seq), key));
    g.if_absent.push_back(storage::guard{storage::family::dedup, "ch/" + std::to_string(seq)});
    return g;
  }

  parley::testing::temp_dir dir;
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::group_writer> writer;
  std::unique_ptr<actor_runtime> runtime;
  storage_writer_actor actor;
};

TEST_F(StorageWriterActor, AppendJobsFromManyThreadsAreCommittedAndCompleted) {
  constexpr int threads = 8, per_thread = 50;
  std::vector<std::thread> senders;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::promise<errc> done;
        auto seq = static_cast<std::uint64_t>(t * per_thread + i);
        caf::anon_send(actor, append_atom::value,
                       append_job{message(seq), [&](storage::commit_outcome o) { done.set_value(o.code); }, {}});
        if (done.get_future().get() == errc::ok) ++ok;
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(ok.load(), threads * per_thread);
  auto rec = db->get(storage::family::messages, storage::key_builder().str("t").str("ct").u64(7).take());
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->body, "body7");
}

TEST_F(StorageWriterActor, ARepeatedAppendIsReportedAsDuplicate) {
  for (errc expected : {errc::ok, errc::duplicate}) {
    std::promise<errc> done;
    caf::anon_send(actor, append_atom::value, append_job{message(1), [&](storage::commit_outcome o) { done.set_value(o.code); }, {}});
    EXPECT_EQ(done.get_future().get(), expected);
  }
}

TEST_F(StorageWriterActor, EncodingErrorsCompleteTheJobWithTheError) {
  storage::write_group g;
  g.ops.push_back(storage::write_op::put(storage::family::messages, storage::key_builder().str("no-key").u64(1).take(), "x", true));
  std::promise<errc> done;
  caf::anon_send(actor, append_atom::value, append_job{std::move(g), [&](storage::commit_outcome o) { done.set_value(o.code); }, {}});
  EXPECT_EQ(done.get_future().get(), errc::key_destroyed);
}

TEST_F(StorageWriterActor, StatusProbeReportsHealth) {
  std::promise<writer_status> done;
  caf::anon_send(actor, status_atom::value, status_probe{[&](writer_status s) { done.set_value(s); }});
  auto status = done.get_future().get();
  EXPECT_TRUE(status.healthy);
  EXPECT_TRUE(status.sync);
}

}  // namespace
}  // namespace parley::actors
