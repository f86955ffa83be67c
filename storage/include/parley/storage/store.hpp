#pragma once
/// The store: Parley's one RocksDB instance with the column families of DESIGN.md, the
/// record envelope (creation time + optionally sealed body), per-tenant data keys and a
/// small typed API. Thread-safe: any thread may read; writes go through `write()` (direct,
/// for rare admin mutations) or a `group_writer` (the hot path).
///
/// Every call here may block on disk: call it from the storage writer thread or a reader
/// pool, never from an Asio I/O thread or CAF's shared scheduler.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/result.hpp"
#include "parley/storage/crypto.hpp"
#include "parley/storage/families.hpp"
#include "parley/storage/retention.hpp"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace parley::storage {

/// How to open a store. `retention` is required.
struct store_options {
  std::string path;                                  ///< directory, created if missing
  aead_key master_key;                               ///< wraps the tenant data keys
  std::shared_ptr<const retention_policy> retention; ///< also supplies the clock
  std::size_t block_cache_bytes = 64u << 20;
  /// Files older than this are recompacted even if nothing else would touch them, so
  /// expired records are physically removed within (retention + this) at most.
  std::uint64_t periodic_compaction_seconds = 24 * 3600;
  /// Run RocksDB's compaction threads at a lower CPU priority (process-wide setting).
  bool low_priority_compaction = true;
  /// When the write-ahead log grows past this, the families holding its oldest part are
  /// flushed, so old log files go a few at a time (and a restart replays little) instead
  /// of piling up behind a quiet family until one large flush frees them all at once.
  std::uint64_t max_wal_bytes = 256u << 20;
  /// Obsolete files (compacted SSTs, old logs, a purged tenant's files) are deleted at
  /// most this fast, large ones 1 MiB at a time: unlinking gigabytes at once on a disk
  /// mounted with `discard` stalls every fsync behind it. Outside maintenance (see
  /// below), trash beyond a quarter of the database is deleted at once instead, so it
  /// never piles up. 0 deletes at once.
  std::uint64_t delete_bytes_per_second = 64u << 20;
  /// While a purge, an erasure's compaction or a retention sweep runs, RocksDB's
  /// flushes and compactions together write at most this much per second more than
  /// live traffic writes (flushes must keep up with that). Unlimited, their writes queue
  /// on the disk ahead of the write-ahead log's fsyncs, and every commit waits behind
  /// them. 0: no limit.
  std::uint64_t maintenance_write_bytes_per_second = 16u << 20;
  /// Tests only: the RocksDB environment to open with (fault injection); it must outlive
  /// the store. nullptr: RocksDB's default.
  rocksdb::Env* env = nullptr;
};

/// A record as read back: key, creation time, plaintext body.
struct record {
  std::string key;
  std::int64_t created_at_ms = 0;
  std::string body;
};

/// One write. `seal` encrypts `body` under the key's tenant data key (the family must
/// be tenant-scoped); `created_at_ms` 0 means "now" by the retention clock.
struct write_op {
  family fam = family::meta;
  std::string key;
  std::string body;
  bool erase = false;
  bool seal = false;
  std::int64_t created_at_ms = 0;
  /// With `erase`: deletes every key in [key, range_end) (one range tombstone) instead
  /// of `key` alone. Unreadable at once; physically gone after compaction. `key` must be
  /// a bare key prefix (see remove_prefix): a range that starts inside a conversation,
  /// a tenant's events or its activity entries is refused with invalid_argument, since
  /// RocksDB would file it under the memtable's insert positions for that prefix.
  std::string range_end = {};

  static write_op put(family f, std::string key, std::string body, bool sealed = false) {
    return write_op{f, std::move(key), std::move(body), false, sealed, 0, {}};
  }
  static write_op remove(family f, std::string key) {
    return write_op{f, std::move(key), {}, true, false, 0, {}};
  }
  /// Deletes every key that starts with `prefix`.
  static write_op remove_prefix(family f, std::string_view prefix);
};

/// A write op already turned into its stored bytes (envelope, sealed if asked).
struct encoded_op {
  family fam = family::meta;
  std::string key;
  std::string value;  ///< empty for erase
  bool erase = false;
  std::string range_end = {};  ///< erase of [key, range_end)
};

/// What a retention sweep did (store::compact_expired).
struct sweep_stats {
  std::size_t files_checked = 0;
  std::size_t ranges_compacted = 0;  ///< key ranges of files that held expirable records
};

/// RocksDB's own state, summed over the families (for metrics and runbooks).
struct engine_stats {
  std::uint64_t pending_compaction_bytes = 0;  ///< estimate of what compactions still have to rewrite
  /// Families with a compaction RocksDB wants to run: level sizes over their targets,
  /// or files it marked (bottom-level files holding deletions, periodic and TTL ones),
  /// which the byte estimate above leaves out.
  std::uint64_t families_needing_compaction = 0;
  std::uint64_t running_compactions = 0;
  std::uint64_t running_flushes = 0;
  std::uint64_t live_sst_bytes = 0;
  std::uint64_t memtable_bytes = 0;
  /// Memory of the open table files outside the block cache (index and filter blocks
  /// that are not cached, and the readers themselves).
  std::uint64_t table_reader_bytes = 0;
  std::uint64_t block_cache_bytes = 0;  ///< what the shared block cache holds now
  std::uint64_t block_cache_capacity = 0;
  std::uint64_t trash_bytes = 0;  ///< freed files still waiting for their paced deletion
  /// What flushes and compactions may write per second now: 0 while no maintenance
  /// hold is taken (no limit), else the maintenance rate plus the live write rate.
  std::uint64_t background_write_limit = 0;
};

class scan_cursor;

/// Stops RocksDB's per-operation counters (its "perf context") on the calling thread.
/// Parley reads none of them, and each count is a thread-local lookup inside the shared
/// library. For long-lived threads that read or write the store on the hot path.
void disable_thread_perf_counters() noexcept;

class store {
 public:
  /// Opens (creating if needed) the store at options.path. io_error with RocksDB's
  /// reason when the directory is unusable or locked by another process.
  [[nodiscard]] static result<std::unique_ptr<store>> open(store_options options);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  // ---- encoding -----------------------------------------------------------------
  /// Builds the stored value of `op` (envelope, seal). Pure CPU; any thread.
  [[nodiscard]] result<encoded_op> encode(write_op op) const;
  /// Reads a stored value back: expired if past retention, key_destroyed if the tenant
  /// key is gone, corruption if the bytes or the seal do not check out.
  [[nodiscard]] result<record> decode(family f, std::string_view key, std::string_view value) const;

  // ---- writes -------------------------------------------------------------------
  /// Writes all ops as one atomic batch; with `sync` the WAL is fsync'd before return.
  [[nodiscard]] status write(std::span<const write_op> ops, bool sync);
  /// Writes already-encoded ops as one atomic batch.
  [[nodiscard]] status write_encoded(std::span<const encoded_op> ops, bool sync);

  // ---- reads --------------------------------------------------------------------
  /// Point lookup. not_found when absent or expired.
  [[nodiscard]] result<record> get(family f, std::string_view key) const;
  /// Point lookups of many keys in one call (bloom filters make misses cheap).
  [[nodiscard]] std::vector<result<record>> multi_get(family f, std::span<const std::string> keys) const;
  /// Up to `limit` records with keys starting with `prefix` and below `before_key`
  /// (empty: from the end), newest (largest key) first. Expired records are skipped.
  [[nodiscard]] result<std::vector<record>> read_reverse(family f, std::string_view prefix,
                                                         std::string_view before_key,
                                                         std::size_t limit) const;
  /// Up to `limit` records with keys starting with `prefix` and above `after_key`
  /// (empty: from the start), oldest (smallest key) first. Expired records are skipped.
  [[nodiscard]] result<std::vector<record>> read_forward(family f, std::string_view prefix, std::string_view after_key,
                                                         std::size_t limit) const;
  /// A forward cursor over every live record with `prefix`, on a consistent snapshot,
  /// in constant memory (for export).
  [[nodiscard]] std::unique_ptr<scan_cursor> scan(family f, std::string_view prefix) const;

  // ---- tenant data keys ---------------------------------------------------------
  /// Creates the tenant's data key if it has none (durably). Idempotent.
  [[nodiscard]] status create_tenant_key(std::string_view tenant);
  /// Destroys the tenant's data key (durably): every sealed record of the tenant is
  /// unreadable from the moment this returns.
  [[nodiscard]] status destroy_tenant_key(std::string_view tenant);
  [[nodiscard]] bool has_tenant_key(std::string_view tenant) const;
  /// Proves the master key is the one this store was created with (a sealed check value
  /// in meta, written on first open). unauthorized when it is another key.
  [[nodiscard]] status check_master_key();

  // ---- maintenance --------------------------------------------------------------
  /// Deletes `key` durably and compacts its range at once, so the old value is gone
  /// from the SST files too, not only hidden (erasing credentials and keys).
  [[nodiscard]] status erase_now(family f, std::string_view key);
  /// Flushes memtables to SST files (the WAL already holds everything durable).
  [[nodiscard]] status flush();
  /// Compaction backlog, running jobs and sizes; cheap (in-memory properties).
  [[nodiscard]] engine_stats stats() const;
  /// A consistent online snapshot of the whole store in `directory`/db (RocksDB
  /// checkpoint: hard links where it can, copies otherwise). `directory` must not exist
  /// yet; its parent must. The master key is not part of it (back it up separately).
  [[nodiscard]] status checkpoint(const std::string& directory);
  /// Re-wraps every tenant data key (and the master-key check value) under `next`, in one
  /// durable write; no record is rewritten. The store uses `next` from then on. Call it
  /// after check_master_key() succeeded. Returns how many tenant keys were re-wrapped.
  [[nodiscard]] result<std::size_t> rotate_master_key(const aead_key& next);
  /// Compacts the whole family to the bottom level, running the TTL filter on all of it.
  [[nodiscard]] status compact(family f);
  /// Compacts [begin, end) of `f` to the bottom level (end empty: to the family's end),
  /// so deleted and expired records in it are physically gone.
  [[nodiscard]] status compact_range(family f, std::string_view begin, std::string_view end);
  /// The retention sweep: every SST file records the oldest creation time of each tenant
  /// it holds (a table property written at flush and compaction). Files that may hold a
  /// record past its retention by the policy's clock are compacted, so the TTL filter
  /// physically removes it; files that cannot are left alone. Memtables are flushed
  /// first so that nothing expired hides there.
  [[nodiscard]] result<sweep_stats> compact_expired();
  /// Erases every key starting with `prefix` (one durable range delete), then compacts
  /// the range: the records are unreadable at once and physically gone on return.
  [[nodiscard]] status purge_prefix(family f, std::string_view prefix);
  /// purge_prefix() of many prefixes at once: one durable write of every range
  /// tombstone and one flush for all of them (a flush briefly blocks writers), then the
  /// compactions one range at a time.
  [[nodiscard]] status purge(std::span<const std::pair<family, std::string>> prefixes);
  /// Number of entries with `prefix` physically present in the family's SST files,
  /// deleted or expired or not (memtables are flushed first). For erasure tests and
  /// operators: 0 means nothing of it is left on disk in this family.
  [[nodiscard]] result<std::uint64_t> count_in_files(family f, std::string_view prefix) const;
  /// Number of keys physically present with `prefix`, expired or not (for tests/ops).
  [[nodiscard]] result<std::uint64_t> count_physical(family f, std::string_view prefix) const;
  /// True while the database is open and usable.
  [[nodiscard]] bool healthy() const noexcept;

  [[nodiscard]] const retention_policy& retention() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept;

  struct impl;  ///< RocksDB handles; defined in src/store_impl.hpp

  /// While one is held, background I/O makes way for commits (see
  /// store_options::maintenance_write_bytes_per_second and delete_bytes_per_second).
  /// purge(), compact_range() and compact_expired() take one themselves; a job of
  /// several steps holds one across them. Holds nest; the last one released lifts it.
  class maintenance_hold {
   public:
    maintenance_hold(maintenance_hold&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
    maintenance_hold& operator=(maintenance_hold&&) = delete;
    ~maintenance_hold();
    /// Re-measures the live write rate and adjusts the limit (between steps of a job).
    void refresh();

   private:
    friend class store;
    explicit maintenance_hold(impl* i) : impl_(i) {}
    impl* impl_;
  };
  /// Starts holding (the first hold measures live writes for 250 ms first).
  [[nodiscard]] maintenance_hold hold_maintenance();

  [[nodiscard]] impl& internals() noexcept { return *impl_; }

 private:
  explicit store(std::unique_ptr<impl> i);
  status compact_key(family f, std::string_view key);
  std::unique_ptr<impl> impl_;
};

/// Forward iteration over a prefix on a snapshot. Not thread-safe; one user at a time.
class scan_cursor {
 public:
  virtual ~scan_cursor() = default;
  /// The next live record into `out`: true; false at the end or on error (see error()).
  [[nodiscard]] virtual bool next(record& out) = 0;
  /// Set when iteration stopped because of an error rather than the end.
  [[nodiscard]] virtual const status& error() const noexcept = 0;
};

}  // namespace parley::storage
