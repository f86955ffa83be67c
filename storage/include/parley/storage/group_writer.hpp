#pragma once
/// Group commit: many concurrent appenders, one WriteBatch and one WAL fsync per group
/// of appends. A dedicated thread takes everything that accumulated while the previous
/// commit ran, checks dedup guards, writes it as one batch and then tells each appender
/// its outcome. Batch size adapts to load: one append at low load (lowest latency),
/// hundreds under a flood (highest throughput).
///
/// Durability: with `sync` (Parley's `--durability sync`) no callback reports `ok`
/// before the batch's fsync has returned.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/result.hpp"
#include "parley/storage/store.hpp"

namespace parley::storage {

/// A dedup guard: `key` must be absent from `fam` (or expired), both in the database
/// and among the earlier groups of the same batch. Check and insert happen in the one
/// writer thread, so they are atomic without locks.
/// - `op_count == 0`: the guard covers the whole group; if the key is present nothing of
///   the group is written and the outcome is `duplicate`.
/// - `op_count > 0`: the guard covers ops [first_op, first_op + op_count) only; if the key
///   is present those ops are skipped (listed in `commit_outcome::skipped`) and the rest
///   of the group is written. One webhook carrying a new and an already stored message
///   is then stored atomically without the duplicate.
struct guard {
  family fam = family::dedup;
  std::string key;
  std::size_t first_op = 0;
  std::size_t op_count = 0;
};

/// Records that must be stored together, atomically, or not at all.
struct write_group {
  std::vector<write_op> ops;
  std::vector<guard> if_absent;
};

/// Ops whose key ends in a sequence number the writer assigns at commit time: `key` is
/// the prefix; the writer appends the next u64 of that prefix (strictly increasing in
/// commit order, never reused, also across restarts). Used for feeds (events) whose
/// readers must never see a later number commit before an earlier one.
struct sequenced_op {
  write_op op;            ///< op.key is the prefix
  std::size_t guarded_by = static_cast<std::size_t>(-1);  ///< index of a ranged guard that also skips this op
};

/// What happened to one submitted group.
struct commit_outcome {
  errc code = errc::ok;         ///< ok, duplicate, or the error that failed the batch
  std::size_t guard_index = 0;  ///< for duplicate: which guard matched
  std::string existing;         ///< for duplicate: the stored body under that guard key
  std::vector<std::size_t> skipped;           ///< ranged guards that matched (ops skipped)
  std::vector<std::string> skipped_existing;  ///< the stored body under each of those keys
  std::vector<std::uint64_t> sequences;       ///< per sequenced op: its number (0 when skipped)
};

/// Called exactly once per accepted group, on the writer thread. Must be quick and must
/// not block (post the answer elsewhere).
using commit_callback = std::function<void(commit_outcome)>;

/// Figures of one commit, for metrics.
struct commit_stats {
  std::size_t groups = 0;      ///< groups in the batch, duplicates included
  std::size_t duplicates = 0;  ///< groups refused by a guard
  std::size_t records = 0;     ///< ops written
  std::size_t bytes = 0;       ///< bytes written (keys + values)
  std::chrono::nanoseconds write_time{0};  ///< the WriteBatch call, fsync included
  bool ok = true;
};

/// When (with `sync`) the WAL fsync of a batch runs on a second thread while the writer
/// goes on with the next batch. A pipelined batch is reported only once a sync covering
/// it completed; reports stay in commit order either way.
enum class sync_pipeline : std::uint8_t {
  off,        ///< the writer thread syncs every batch itself
  when_busy,  ///< pipelined while appends wait behind the batch or syncs are in flight;
              ///< otherwise synced at once on the writer thread (no hand-off at low load)
  always,     ///< every batch (tests use it to hold the sync thread deterministically)
};

struct group_writer_options {
  bool sync = true;                       ///< fsync the WAL before reporting durable
  std::size_t max_pending_groups = 65'536;///< queue bound: submit answers overloaded past it
  std::size_t max_batch_groups = 4'096;   ///< at most this many groups per WriteBatch
  sync_pipeline pipeline = sync_pipeline::when_busy;
  std::function<void(const commit_stats&)> on_commit;  ///< metrics hook (writer thread)
};

/// The group-commit writer. Thread-safe `submit`; owns one thread from construction
/// until `stop()` (or destruction), which commits everything already accepted first.
class group_writer {
 public:
  group_writer(store& db, group_writer_options options);
  ~group_writer();
  group_writer(const group_writer&) = delete;
  group_writer& operator=(const group_writer&) = delete;

  /// Encodes (and seals) the group on the caller's thread and queues it. On success the
  /// callback is taken and will be called exactly once; on error (overloaded,
  /// shutting_down, or an encoding error) it is left with the caller, never called, and
  /// nothing is written.
  [[nodiscard]] status submit(write_group group, commit_callback&& done);
  /// As submit(), plus ops whose keys get a sequence number at commit (sealed then).
  [[nodiscard]] status submit(write_group group, std::vector<sequenced_op> sequenced, commit_callback&& done);

  /// Stops taking work, commits what was accepted, joins the thread. Idempotent.
  void stop();

  [[nodiscard]] std::size_t pending() const;
  /// With pipelined sync, records are readable from the moment they are written, a WAL
  /// sync before they are durable. For a sequence prefix with numbers handed out but not
  /// yet durable: the highest durable number (readers of a feed stop there, so a number
  /// they saw can never be lost by a crash and handed out again). Otherwise nullopt:
  /// every stored number of the prefix is durable.
  [[nodiscard]] std::optional<std::uint64_t> durable_bound(family f, std::string_view prefix) const;
  /// False once stopped, or after a WAL write or sync failed (nothing more is then
  /// written: what the log holds after a failed fsync is unknown until a restart
  /// recovers it).
  [[nodiscard]] bool healthy() const;
  [[nodiscard]] bool sync() const noexcept { return options_.sync; }

 private:
  struct queued {
    std::vector<encoded_op> ops;
    std::vector<guard> if_absent;
    std::vector<sequenced_op> sequenced;
    commit_callback done;
  };
  /// Next number for a sequence prefix (loads the high-water mark on first use).
  result<std::uint64_t> next_sequence(family f, const std::string& prefix);
  void run();
  void commit(std::vector<queued>& batch);
  /// A written batch waiting for the WAL sync that makes it durable.
  struct unsynced {
    std::vector<commit_callback> done;
    std::vector<commit_outcome> outcomes;
    commit_stats stats;
    bool needs_sync = false;
    std::vector<std::pair<std::string, std::uint64_t>> numbered;  ///< sequence id -> top number written
  };
  void run_sync();
  /// After a failed WAL write or sync: this writer and the store write nothing more.
  void mark_broken();
  void finish(unsynced& b);

  store& db_;
  group_writer_options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<queued> queue_;
  bool stopping_ = false;
  std::unordered_map<std::string, std::uint64_t> sequences_;  ///< writer thread only
  std::thread thread_;
  std::mutex sync_mutex_;
  std::condition_variable sync_wake_;
  std::deque<unsynced> sync_queue_;
  std::atomic<std::size_t> unsynced_batches_{0};  ///< handed to the sync thread, not yet reported
  bool sync_stopping_ = false;
  std::atomic<bool> broken_{false};  ///< a WAL write or sync failed: nothing more is written
  struct sequence_bound {
    std::uint64_t handed_out = 0;
    std::uint64_t durable = 0;
  };
  mutable std::mutex bounds_mutex_;
  std::unordered_map<std::string, sequence_bound> bounds_;  ///< pipelined batches only
  std::thread sync_thread_;
};

}  // namespace parley::storage
