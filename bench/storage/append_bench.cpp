// Durable append throughput: the group-commit writer against one synchronous RocksDB
// write (one WAL fsync) per append, at 1, 16 and 64 concurrent appenders, 1 KiB sealed
// records.
//
// Run (Release build):
//   build/bench/parley_storage_bench --benchmark_filter=Append --benchmark_min_time=2
// Items/s is durable appends per second. TMPDIR chooses the disk.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "parley/storage/group_writer.hpp"
#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"

namespace {

using namespace parley::storage;

// A store in a fresh temp dir, removed afterwards.
struct bench_store {
  bench_store() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "parley-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    store_options o;
    o.path = dir + "/db";
    o.master_key = aead_key::random();
    o.retention = std::make_shared<retention_policy>(parley::system_clock::instance());
    db = std::move(store::open(std::move(o)).value());
    (void)db->create_tenant_key("bench");
  }
  ~bench_store() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<store> db;
};

// A store and a group writer that does not fsync: what the writer thread itself costs.
struct unsynced_writer {
  static group_writer_options options() {
    group_writer_options o;
    o.sync = false;
    return o;
  }
  bench_store s;
  group_writer writer{*s.db, options()};
};

write_op record_op(std::uint64_t seq, const std::string& body) {
  return write_op::put(family::messages, key_builder(48).str("bench").str("ct_bench").u64(seq).take(), body, true);
}

// Runs `appenders` threads; each iteration has every thread make `per_thread` appends
// with `append(seq)` (which returns once the append is durable).
template <class Append>
void run_appenders(benchmark::State& state, int appenders, int per_thread, Append append) {
  std::atomic<std::uint64_t> seq{0};
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t round = 0;
  int finished = 0;
  bool stop = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&] {
      std::uint64_t seen = 0;
      for (;;) {
        {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return stop || round != seen; });
          if (stop) return;
          seen = round;
        }
        for (int i = 0; i < per_thread; ++i) append(seq.fetch_add(1));
        std::lock_guard lock(m);
        if (++finished == appenders) cv.notify_all();
      }
    });
  }
  for (auto _ : state) {
    std::unique_lock lock(m);
    finished = 0;
    ++round;
    cv.notify_all();
    cv.wait(lock, [&] { return finished == appenders; });
  }
  {
    std::lock_guard lock(m);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * appenders * per_thread);
}

void BM_AppendGroupCommit(benchmark::State& state) {
  bench_store s;
  std::vector<std::size_t> batch_sizes;
  std::mutex stats_mutex;
  group_writer_options options;
  options.pipeline = static_cast<sync_pipeline>(state.range(1));  // off, when_busy (the default), always
  options.on_commit = [&](const commit_stats& c) {
    std::lock_guard lock(stats_mutex);
    batch_sizes.push_back(c.groups);
  };
  group_writer writer(*s.db, options);
  const std::string body(1024, 'b');
  int appenders = static_cast<int>(state.range(0));
  run_appenders(state, appenders, 32, [&](std::uint64_t seq) {
    std::promise<void> done;
    write_group g;
    g.ops.push_back(record_op(seq, body));
    if (!writer.submit(std::move(g), [&](commit_outcome) { done.set_value(); }).ok()) std::abort();
    done.get_future().wait();
  });
  writer.stop();
  double total = 0;
  for (auto b : batch_sizes) total += static_cast<double>(b);
  state.counters["avg_batch"] = batch_sizes.empty() ? 0 : total / static_cast<double>(batch_sizes.size());
}

void BM_AppendFsyncEach(benchmark::State& state) {
  bench_store s;
  const std::string body(1024, 'b');
  int appenders = static_cast<int>(state.range(0));
  run_appenders(state, appenders, 32, [&](std::uint64_t seq) {
    std::vector<write_op> ops = {record_op(seq, body)};
    if (!s.db->write(ops, true).ok()) std::abort();
  });
}

void BM_AppendGroupCommitNoSync(benchmark::State& state) {
  unsynced_writer w;
  auto& writer = w.writer;
  const std::string body(1024, 'b');
  run_appenders(state, static_cast<int>(state.range(0)), 32, [&](std::uint64_t seq) {
    std::promise<void> done;
    write_group g;
    g.ops.push_back(record_op(seq, body));
    if (!writer.submit(std::move(g), [&](commit_outcome) { done.set_value(); }).ok()) std::abort();
    done.get_future().wait();
  });
}

// The writer thread's own cost for webhook-shaped groups, without fsync: each group is
// what one inbound text message writes (message and raw body sealed, dedup key with its
// guard, conversation state, activity index remove + put, a sequenced event), over
// 10,000 contacts. Groups are submitted without waiting, so the writer's batches are as
// large as it can take; items/s is groups committed per second of the writer.
void BM_CommitWebhookGroups(benchmark::State& state) {
  unsynced_writer w;
  auto& writer = w.writer;
  const std::string message(700, 'm');
  const std::string raw(1100, 'r');
  const std::string conv_state(160, 's');
  constexpr std::uint64_t contacts = 10'000;
  constexpr int per_iteration = 512;
  std::uint64_t n = 0;
  std::int64_t now_ms = 1'700'000'000'000;
  std::vector<std::int64_t> activity(contacts, 0);
  for (auto _ : state) {
    std::atomic<int> left{per_iteration};
    std::promise<void> all_done;
    for (int i = 0; i < per_iteration; ++i, ++n) {
      // A multiplicative hash spreads consecutive messages over the contacts.
      const std::uint64_t c = (n * 2654435761u) % contacts;
      const std::string contact = "ct_" + std::to_string(c);
      const std::string wamid = "wamid.bench." + std::to_string(n);
      now_ms += 1;
      write_group g;
      g.ops.push_back(write_op::put(family::messages, message_key("bench", contact, n), message, true));
      g.ops.push_back(write_op::put(family::dedup, dedup_key("ch_bench", wamid), contact));
      g.if_absent.push_back(guard{family::dedup, dedup_key("ch_bench", wamid), 0, 2});
      g.ops.push_back(write_op::put(family::conversations, conversation_key("bench", contact), conv_state, true));
      if (activity[c] > 0) g.ops.push_back(write_op::remove(family::conversations, activity_key("bench", activity[c], contact)));
      g.ops.push_back(write_op::put(family::conversations, activity_key("bench", now_ms, contact), ""));
      activity[c] = now_ms;
      g.ops.push_back(write_op::put(family::raw_webhooks, raw_webhook_key("bench", now_ms, "raw_" + std::to_string(n)), raw, true));
      std::vector<sequenced_op> events;
      events.push_back(sequenced_op{write_op::put(family::events, event_prefix("bench"), "{\"ref\":1}", true)});
      auto done = [&](commit_outcome) {
        if (left.fetch_sub(1) == 1) all_done.set_value();
      };
      if (auto st = writer.submit(std::move(g), std::move(events), done); !st.ok()) {
        state.SkipWithError(st.err().message.c_str());
        return;
      }
    }
    all_done.get_future().wait();
  }
  writer.stop();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_iteration);
}

BENCHMARK(BM_AppendGroupCommit)
    ->ArgNames({"appenders", "pipeline"})
    ->ArgsProduct({{1, 16, 64}, {0, 1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendFsyncEach)->Arg(1)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendGroupCommitNoSync)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CommitWebhookGroups)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
