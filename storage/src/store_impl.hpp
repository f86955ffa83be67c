#pragma once
// Private to storage/: the RocksDB handles behind `store`. Included by store.cpp and
// group_writer.cpp only, so RocksDB headers stay out of every other translation unit.
#include <chrono>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/rate_limiter.h>
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

struct store::impl {
  store_options options;
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, family_count> handles{};
  std::array<std::unique_ptr<ttl_filter>, family_count> filters;
  std::atomic<bool> open{false};

  /// Background write limit while maintenance runs (null: no limit configured).
  std::shared_ptr<rocksdb::RateLimiter> limiter;
  /// Paced deletion of obsolete files (null: files are deleted at once).
  std::shared_ptr<rocksdb::SstFileManager> files;
  std::mutex throttle_mutex;
  int throttled = 0;  ///< maintenance holds (guarded by throttle_mutex, as are the samples)
  std::uint64_t sample_bytes = 0;                      ///< bytes_written at the last rate sample
  std::chrono::steady_clock::time_point sample_time{}; ///< and when it was taken
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
