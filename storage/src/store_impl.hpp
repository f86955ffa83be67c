#pragma once
// Private to storage/: the RocksDB handles behind `store`. Included by store.cpp and
// group_writer.cpp only, so RocksDB headers stay out of every other translation unit.
#include <chrono>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/rate_limiter.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "parley/storage/store.hpp"

namespace parley::storage {

/// Maps a RocksDB status to an error value (the one place that does).
[[nodiscard]] error to_error(const rocksdb::Status& s, std::string_view what);

/// The TTL compaction filter of one family: drops records past their tenant's retention.
class ttl_filter final : public rocksdb::CompactionFilter {
 public:
  ttl_filter(family f, std::shared_ptr<const retention_policy> policy)
      : family_(f), policy_(std::move(policy)) {}
  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "parley.ttl_filter"; }

 private:
  family family_;
  std::shared_ptr<const retention_policy> policy_;
};

/// RocksDB's rate limiter for flushes and compactions: no limit until maintenance starts
/// one, then the maintenance rate plus the live write rate, re-measured every 250 ms so
/// flushes keep up when traffic grows during a long job. Each limited period gets a
/// fresh GenericRateLimiter: one kept at a huge rate for "unlimited" does not work, as
/// its bucket keeps a refill period's worth of that rate (gigabytes) and a lower rate set
/// later only bites once that is spent, i.e. never within one purge.
class background_limiter final : public rocksdb::RateLimiter {
 public:
  using clock = std::chrono::steady_clock;

  /// `live_bytes` counts what commits write; it must outlive the limiter.
  explicit background_limiter(const std::atomic<std::uint64_t>& live_bytes) : live_bytes_(live_bytes) {}
  /// Starts measuring live writes for the limit that start() sets.
  void begin_sample();
  /// Limits flushes and compactions together to `base_bytes_per_second` (> 0) plus the
  /// live write rate since begin_sample().
  void start(std::int64_t base_bytes_per_second);
  /// Measures the live rate again now (if the last sample is at least 100 ms old).
  void resample();
  /// Removes the limit (writes already waiting finish their wait).
  void stop();
  /// The limit in force, 0 for none.
  [[nodiscard]] std::int64_t limit_now() const;

  void SetBytesPerSecond(int64_t bytes_per_second) override;
  using rocksdb::RateLimiter::Request;
  void Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats) override;
  int64_t GetSingleBurstBytes() const override;
  int64_t GetTotalBytesThrough(rocksdb::Env::IOPriority pri = rocksdb::Env::IO_TOTAL) const override;
  int64_t GetTotalRequests(rocksdb::Env::IOPriority pri = rocksdb::Env::IO_TOTAL) const override;
  int64_t GetBytesPerSecond() const override;

 private:
  void resample_locked(clock::time_point now);  // caller holds mutex_, inner_ is set
  [[nodiscard]] std::shared_ptr<rocksdb::RateLimiter> current() const;
  static std::size_t slot(rocksdb::Env::IOPriority pri) noexcept {
    return static_cast<std::size_t>(pri < rocksdb::Env::IO_TOTAL ? pri : rocksdb::Env::IO_TOTAL);
  }

  const std::atomic<std::uint64_t>& live_bytes_;
  mutable std::mutex mutex_;
  std::shared_ptr<rocksdb::RateLimiter> inner_;  ///< null: no limit
  std::int64_t base_ = 0;
  std::uint64_t sample_bytes_ = 0;  ///< live_bytes_ at the last sample
  clock::time_point sample_time_{};
  std::array<std::atomic<std::int64_t>, rocksdb::Env::IO_TOTAL + 1> bytes_{};
  std::array<std::atomic<std::int64_t>, rocksdb::Env::IO_TOTAL + 1> requests_{};
};

struct store::impl {
  store_options options;
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, family_count> handles{};
  std::array<std::unique_ptr<ttl_filter>, family_count> filters;
  /// Each family's memtable insert-hint prefix (none for most), as given to RocksDB.
  std::array<std::shared_ptr<const rocksdb::SliceTransform>, family_count> insert_hints;
  std::atomic<bool> open{false};
  /// A write or fsync of the write-ahead log failed (group_writer): nothing more is
  /// written to it, flushed or synced; a restart recovers.
  std::atomic<bool> log_failed{false};

  /// Background write limit while maintenance runs (null: no limit configured).
  std::shared_ptr<background_limiter> limiter;
  /// Paced deletion of obsolete files (null: files are deleted at once).
  std::shared_ptr<rocksdb::SstFileManager> files;
  /// The block cache all families share.
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::mutex throttle_mutex;
  int throttled = 0;  ///< maintenance holds (guarded by throttle_mutex)
  /// Bytes committed (write batches), for the live write rate.
  std::atomic<std::uint64_t> bytes_written{0};
  /// Counts a committed batch (any thread).
  void note_written(std::size_t bytes) noexcept { bytes_written.fetch_add(bytes, std::memory_order_relaxed); }

  std::mutex create_mutex;
  mutable std::mutex keys_mutex;
  mutable std::unordered_map<std::string, std::shared_ptr<const aead_key>> tenant_keys;

  rocksdb::ColumnFamilyHandle* cf(family f) const { return handles[static_cast<std::size_t>(f)]; }
  /// The tenant's data key (cached), or key_destroyed / not_found.
  result<std::shared_ptr<const aead_key>> tenant_key(std::string_view tenant) const;
};

/// Creation time stored in a value's envelope, or nullopt when it does not parse.
[[nodiscard]] std::optional<std::int64_t> envelope_created_at(std::string_view value);

}  // namespace parley::storage
