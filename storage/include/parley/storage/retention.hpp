#pragma once
/// Retention: how long each tenant keeps each kind of record. Read by the compaction
/// filter (RocksDB background threads) and by every read, so it is thread-safe and
/// cheap to query. Owned by the store's creator and shared with the store.
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "parley/clock.hpp"
#include "parley/storage/families.hpp"

namespace parley::storage {

/// A tenant's retention in days; 0 keeps forever (API.md "retention").
struct tenant_retention {
  std::uint32_t messages_days = 0;
  std::uint32_t raw_webhooks_days = 90;
  std::uint32_t events_days = 7;
};

/// Decides whether a record is past its lifetime. Thread-safe.
class retention_policy {
 public:
  /// `time` must outlive the policy. `dedup_window_hours` applies to the dedup family.
  explicit retention_policy(const clock& time, std::uint32_t dedup_window_hours = 168);

  /// Sets (or replaces) a tenant's retention; applies to records already stored.
  void set_tenant(std::string_view tenant, tenant_retention r);
  void remove_tenant(std::string_view tenant);
  /// The tenant's retention, or the defaults for an unknown tenant.
  [[nodiscard]] tenant_retention tenant(std::string_view tenant) const;

  /// Lifetime in ms of a record of family `f` owned by `tenant`; 0 means forever.
  [[nodiscard]] std::int64_t lifetime_ms(family f, std::string_view tenant) const;
  /// The shortest non-zero lifetime any tenant (or the defaults) has in family `f`; 0
  /// when every record of the family is kept forever.
  [[nodiscard]] std::int64_t shortest_lifetime_ms(family f) const;
  /// True when the record at `key` created at `created_at_ms` is past its lifetime now.
  [[nodiscard]] bool is_expired(family f, std::string_view key, std::int64_t created_at_ms) const;

  [[nodiscard]] const clock& time() const noexcept { return time_; }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  const clock& time_;
  std::int64_t dedup_window_ms_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, tenant_retention, string_hash, std::equal_to<>> tenants_;
};

}  // namespace parley::storage
