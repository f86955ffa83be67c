// The retention actor against a real store with a manual clock: its periodic sweep makes
// compaction reach files with expired records (checked in the SST files), and a tenant
// purge leaves no key with the tenant's prefix in any family.
#include "retention/retention_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "parley/actors/directory.hpp"
#include "parley/actors/system.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "support/temp_dir.hpp"

namespace parley::actors {
namespace {

using storage::family;

constexpr std::int64_t day_ms = parley::ms_per_day;

class RetentionActor : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::store_options options;
    options.path = dir.sub("db");
    options.master_key = storage::aead_key::random();
    options.retention = retention;
    auto opened = storage::store::open(std::move(options));
    ASSERT_TRUE(opened.ok());
    db = std::shared_ptr<storage::store>(std::move(*opened));
    runtime = std::make_unique<actor_runtime>(system_options{});
    ctx = std::make_shared<retention_context>();
    ctx->db = db;
    ctx->retention = retention;
    ctx->dir = &dir_;
    ctx->time = &time;
    ctx->sweep_interval = std::chrono::milliseconds(20);
  }
  void TearDown() override {
    ctx->stopping->store(true);
    if (actor) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    actor = nullptr;
    runtime.reset();
  }

  void put(family f, std::string key, bool sealed = false) {
    std::vector<storage::write_op> ops = {storage::write_op::put(f, std::move(key), "body", sealed)};
    ASSERT_TRUE(db->write(ops, true).ok());
  }
  std::uint64_t on_disk(family f, std::string_view tenant) {
    return db->count_in_files(f, storage::key_builder().str(tenant).take()).value();
  }
  // Waits (bounded) until `done` holds; the actor works on its own thread.
  template <class F>
  bool eventually(F done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  parley::testing::temp_dir dir;
  manual_clock time{1'790'000'000'000};
  std::shared_ptr<storage::retention_policy> retention = std::make_shared<storage::retention_policy>(time);
  std::shared_ptr<storage::store> db;
  std::unique_ptr<actor_runtime> runtime;
  directory dir_;
  std::shared_ptr<retention_context> ctx;
  retention_actor actor;
};

TEST_F(RetentionActor, PeriodicSweepRemovesExpiredRecordsFromTheFiles) {
  retention->set_tenant("short", storage::tenant_retention{2, 2, 2});
  retention->set_tenant("long", storage::tenant_retention{0, 90, 7});
  for (std::uint64_t i = 0; i < 200; ++i) {
    auto k = [&](std::string_view t) { return storage::key_builder().str(t).str("ct_a").u64(i).take(); };
    put(family::messages, k("short"));
    put(family::messages, k("long"));
    put(family::events, k("short"));
  }
  ASSERT_TRUE(db->flush().ok());
  actor = spawn_retention(runtime->system(), ctx);
  // Sweeps run, but nothing is old enough: every record stays on disk.
  ASSERT_TRUE(eventually([&] { return ctx->counters->sweeps.load() >= 3; }));
  EXPECT_EQ(ctx->counters->ranges_compacted.load(), 0u);
  EXPECT_EQ(on_disk(family::messages, "short"), 200u);

  time.advance(3 * day_ms);
  ASSERT_TRUE(eventually([&] { return ctx->counters->ranges_compacted.load() >= 2; }));
  auto swept = ctx->counters->sweeps.load();
  ASSERT_TRUE(eventually([&] { return ctx->counters->sweeps.load() >= swept + 1; }));  // one full sweep after
  EXPECT_EQ(on_disk(family::messages, "short"), 0u);
  EXPECT_EQ(on_disk(family::events, "short"), 0u);
  EXPECT_EQ(on_disk(family::messages, "long"), 200u);  // kept forever
  EXPECT_EQ(ctx->counters->errors.load(), 0u);
}

TEST_F(RetentionActor, PurgeLeavesNoKeyWithTheTenantsPrefixInAnyFamily) {
  ASSERT_TRUE(db->create_tenant_key("gone").ok());
  ASSERT_TRUE(db->create_tenant_key("kept").ok());
  for (std::string tenant : {"gone", "kept"}) {
    for (std::uint64_t i = 0; i < 100; ++i) {
      std::string contact = "ct_" + std::to_string(i % 7);
      put(family::messages, storage::message_key(tenant, contact, i), true);
      put(family::conversations, storage::conversation_key(tenant, contact));
      put(family::identities, storage::identity_key(tenant, channel_type::whatsapp, "1555" + std::to_string(i)));
      put(family::raw_webhooks, storage::raw_webhook_key(tenant, 1000 + static_cast<std::int64_t>(i), "raw_x"), true);
      put(family::outbox, storage::outbox_key(tenant, contact, i));
      put(family::events, storage::event_prefix(tenant) + storage::key_builder().u64(i + 1).take());
      put(family::dedup, storage::dedup_key("ch_" + tenant, "wamid." + std::to_string(i)));
    }
    put(family::meta, storage::usage_key(tenant, "2026-11-23", "day"));
    if (auto st = db->flush(); !st) FAIL() << st.err().message;
  }
  // What the registry's delete wrote: the tenant record (purging) and its channel list.
  put(family::meta, storage::key_builder().u8(static_cast<std::uint8_t>(storage::meta_kind::tenant)).str("gone").take());
  std::vector<storage::write_op> ops = {purge_record_op("gone", {"ch_gone"})};
  ASSERT_TRUE(db->write(ops, true).ok());
  ASSERT_TRUE(db->destroy_tenant_key("gone").ok());

  actor = spawn_retention(runtime->system(), ctx);
  std::promise<status> purged;
  caf::anon_send(actor, purge_atom::value, purge_tenant_job{"gone", [&](status st) { purged.set_value(st); }});
  auto fut = purged.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto st = fut.get();
  ASSERT_TRUE(st.ok()) << st.err().message;

  for (family f : {family::messages, family::conversations, family::identities, family::raw_webhooks, family::outbox,
                   family::events}) {
    EXPECT_EQ(on_disk(f, "gone"), 0u) << storage::family_name(f);
    EXPECT_GT(on_disk(f, "kept"), 0u) << storage::family_name(f);
  }
  EXPECT_EQ(on_disk(family::dedup, "ch_gone"), 0u);
  EXPECT_EQ(on_disk(family::dedup, "ch_kept"), 100u);
  auto meta_of = [&](storage::meta_kind k, std::string_view t) {
    return db->count_in_files(family::meta, storage::key_builder().u8(static_cast<std::uint8_t>(k)).str(t).take()).value();
  };
  for (auto k : {storage::meta_kind::tenant, storage::meta_kind::tenant_key, storage::meta_kind::usage, storage::meta_kind::purge}) {
    EXPECT_EQ(meta_of(k, "gone"), 0u) << static_cast<int>(k);
  }
  EXPECT_EQ(meta_of(storage::meta_kind::usage, "kept"), 1u);
  EXPECT_EQ(ctx->counters->tenants_purged.load(), 1u);
  EXPECT_EQ(ctx->counters->last_purge_ms.load(), ctx->time->now_ms());  // the test clock stands still
}

TEST_F(RetentionActor, ContactErasureRemovesTheEventsAndRawPayloadsThatNameIt) {
  ASSERT_TRUE(db->create_tenant_key("t").ok());
  std::uint64_t seq = 0;
  auto event = [&](std::string body) {
    std::vector<storage::write_op> ops = {storage::write_op::put(
        family::events, storage::event_prefix("t") + storage::key_builder().u64(++seq).take(), std::move(body))};
    ASSERT_TRUE(db->write(ops, true).ok());
  };
  auto raw = [&](std::string id, std::string body) {
    std::vector<storage::write_op> ops = {
        storage::write_op::put(family::raw_webhooks, storage::raw_webhook_key("t", 5, id), std::move(body), true)};
    ASSERT_TRUE(db->write(ops, true).ok());
  };
  event(R"({"type":"message.received","ref":{"contact":"ct_gone","seq":1}})");
  event(R"({"type":"message.received","ref":{"contact":"ct_kept","seq":1}})");
  event(R"({"type":"conversation.consent","data":{"contact_id":"ct_gone","consent":"opted_out"}})");
  raw("raw_1", R"({"messages":[{"from":"15550001111","text":{"body":"hi"}}]})");
  raw("raw_2", R"({"messages":[{"from":"15550002222","text":{"body":"hi"}}]})");
  raw("raw_3", R"({"messages":[{"from":"155500011119","text":{"body":"a longer number that contains the id"}}]})");
  erase_contact_job job{"t", "ct_gone", {"15550001111"}, {}};
  std::vector<storage::write_op> ops = {erasure_record_op(job)};
  ASSERT_TRUE(db->write(ops, true).ok());

  // Resumed from the stored erasure record at start, like after a restart.
  actor = spawn_retention(runtime->system(), ctx);
  ASSERT_TRUE(eventually([&] { return ctx->counters->contacts_erased.load() == 1; }));
  auto events = db->read_forward(family::events, storage::event_prefix("t"), {}, 10).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].body.find("ct_kept"), std::string::npos);
  auto raws = db->read_forward(family::raw_webhooks, storage::key_builder().str("t").take(), {}, 10).value();
  ASSERT_EQ(raws.size(), 2u);
  for (const auto& r : raws) EXPECT_EQ(r.body.find("\"15550001111\""), std::string::npos) << r.body;
  EXPECT_EQ(db->count_in_files(family::meta, storage::key_builder().u8(static_cast<std::uint8_t>(storage::meta_kind::erasure)).take()).value(), 0u);
}

}  // namespace
}  // namespace parley::actors
