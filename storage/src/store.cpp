#include "parley/storage/store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/metadata.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <filesystem>
#include <map>
#include <thread>

#include "parley/schemas/records_generated.h"
#include "parley/storage/keys.hpp"
#include "store_impl.hpp"

namespace parley::storage {
namespace {

constexpr std::int64_t unlimited_write_rate = std::int64_t{1} << 40;  // 1 TiB/s
// Refill period of a limited background write rate: a steady trickle, not a burst per
// 100 ms (RocksDB's default period).
constexpr std::int64_t limiter_refill_us = 10'000;
// How much one write may ask for while nothing is limited (RocksDB splits its writes
// to this size).
constexpr std::int64_t unlimited_burst_bytes = std::int64_t{64} << 20;

constexpr double steady_trash_ratio = 0.25;
constexpr double maintenance_trash_ratio = 1e6;  // a purge may free most of the database

namespace fb = parley::schemas;

// AAD binding a sealed value to its location: family byte + key, in two pieces (the
// byte from a static table, so the parts need nothing of their own to outlive).
constexpr auto family_bytes = [] {
  std::array<char, 256> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i);
  return out;
}();
aad_parts location_aad(family f, std::string_view key) {
  return {std::string_view(&family_bytes[static_cast<std::uint8_t>(f)], 1), key};
}

std::string tenant_key_meta_key(std::string_view tenant) {
  return key_builder().u8(static_cast<std::uint8_t>(meta_kind::tenant_key)).str(tenant).take();
}

// The envelope of every stored value: a fixed 10-byte header, then the body.
//   [0] format version (1)  [1] flags (bit 0: sealed)  [2..9] created_at_ms, big-endian
// A fixed header rather than a FlatBuffer: RocksDB hands out values at any alignment,
// and the compaction filter reads the time of every record it sees.
constexpr std::uint8_t envelope_version = 1;
constexpr std::size_t envelope_header = 10;
constexpr std::uint8_t flag_sealed = 1;

struct envelope {
  std::int64_t created_at_ms = 0;
  bool sealed = false;
  std::string_view body;
};

std::optional<envelope> parse_envelope(std::string_view value) {
  if (value.size() < envelope_header || static_cast<std::uint8_t>(value[0]) != envelope_version) return std::nullopt;
  std::uint64_t created = 0;
  for (std::size_t i = 2; i < envelope_header; ++i) created = (created << 8) | static_cast<unsigned char>(value[i]);
  return envelope{static_cast<std::int64_t>(created), (static_cast<std::uint8_t>(value[1]) & flag_sealed) != 0,
                  value.substr(envelope_header)};
}

void put_envelope_header(std::string& out, std::int64_t created_at_ms, bool sealed) {
  out.push_back(static_cast<char>(envelope_version));
  out.push_back(static_cast<char>(sealed ? flag_sealed : 0));
  auto created = static_cast<std::uint64_t>(created_at_ms);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((created >> shift) & 0xFF));
}

std::string_view as_view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
rocksdb::Slice as_slice(std::string_view s) { return {s.data(), s.size()}; }

// Where the first `strings` key_builder strings of `key` end; 0 when the key holds fewer.
// A string ends with "\0\x01"; a NUL inside one is escaped as "\0\xFF".
std::size_t leading_strings_size(std::string_view key, int strings) noexcept {
  int seen = 0;
  for (std::size_t i = 0; i + 1 < key.size(); ++i) {
    if (key[i] != '\0') continue;
    if (key[i + 1] == '\x01' && ++seen == strings) return i + 2;
    ++i;  // the byte after a NUL marks an escape or an end, never a NUL itself
  }
  return 0;
}

// The part of a key after which a family's new keys arrive in order: one conversation's
// messages (by sequence), one tenant's events (by sequence) or raw bodies (by time).
// RocksDB keeps one insert position per such prefix in
// each memtable, so appending there skips most of the skip list's search. It is used
// only for memtable inserts: nothing of it is stored in a file.
class insert_locality final : public rocksdb::SliceTransform {
 public:
  explicit insert_locality(int strings) : strings_(strings) {}
  [[nodiscard]] const char* Name() const override { return "parley.InsertLocality"; }
  [[nodiscard]] rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), leading_strings_size(as_view(key), strings_)};
  }
  // A key that is the prefix and nothing more is outside: RocksDB 7.8 also applies the
  // hints to its range-tombstone table, where a position from the point table would
  // corrupt the list. Parley's range deletions all start at a bare prefix (see
  // store::encode, which refuses any other).
  [[nodiscard]] bool InDomain(const rocksdb::Slice& key) const override {
    auto n = leading_strings_size(as_view(key), strings_);
    return n != 0 && n < key.size();
  }

 private:
  int strings_;
};

// The conversations family holds two kinds of keys that arrive in order: one tenant's
// activity entries (tenant 'a' time contact, newest first) and each conversation's state
// (tenant 'c' contact), rewritten with every message: its new version goes right before
// the previous one, so the key itself is its prefix. A bare tenant prefix (a range
// erase's start) is outside, as for insert_locality.
class conversation_locality final : public rocksdb::SliceTransform {
 public:
  [[nodiscard]] const char* Name() const override { return "parley.ConversationLocality"; }
  [[nodiscard]] rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    auto n = leading_strings_size(as_view(key), 1);
    return n < key.size() && key[n] == 'a' ? rocksdb::Slice(key.data(), n + 1) : key;
  }
  [[nodiscard]] bool InDomain(const rocksdb::Slice& key) const override {
    auto n = leading_strings_size(as_view(key), 1);
    return n != 0 && n + 1 < key.size() && (key[n] == 'a' || key[n] == 'c');
  }
};

// The insert-locality prefix of a family's keys (see records.cpp), or none where new
// keys land anywhere (dedup ids, outbox, identities).
std::shared_ptr<const rocksdb::SliceTransform> insert_locality_for(family f) {
  switch (f) {
    case family::messages:
      return std::make_shared<insert_locality>(2);  // tenant, contact
    case family::events:                            // tenant, then sequence
    case family::raw_webhooks:
      return std::make_shared<insert_locality>(1);  // tenant, then time
    case family::conversations:
      return std::make_shared<conversation_locality>();
    default:
      return nullptr;
  }
}

}  // namespace

void background_limiter::begin_sample() {
  std::lock_guard lock(mutex_);
  sample_bytes_ = live_bytes_.load(std::memory_order_relaxed);
  sample_time_ = clock::now();
}

void background_limiter::start(std::int64_t base_bytes_per_second) {
  std::lock_guard lock(mutex_);
  base_ = base_bytes_per_second;
  if (!inner_) inner_.reset(rocksdb::NewGenericRateLimiter(base_, limiter_refill_us));
  resample_locked(clock::now());
}

void background_limiter::resample() {
  std::lock_guard lock(mutex_);
  if (inner_) resample_locked(clock::now());
}

void background_limiter::resample_locked(clock::time_point now) {
  double seconds = std::chrono::duration<double>(now - sample_time_).count();
  if (seconds < 0.1) return;  // too short to measure
  auto bytes = live_bytes_.load(std::memory_order_relaxed);
  double live = static_cast<double>(bytes - sample_bytes_) / seconds;
  sample_bytes_ = bytes;
  sample_time_ = now;
  double rate = std::min(static_cast<double>(base_) + live, static_cast<double>(unlimited_write_rate));
  inner_->SetBytesPerSecond(static_cast<std::int64_t>(rate));
}

void background_limiter::stop() {
  std::lock_guard lock(mutex_);
  inner_.reset();
}

void background_limiter::SetBytesPerSecond(int64_t bytes_per_second) {
  // Part of RocksDB's interface; Parley itself uses start()/resample()/stop().
  std::lock_guard lock(mutex_);
  if (inner_) inner_->SetBytesPerSecond(bytes_per_second);
}

std::shared_ptr<rocksdb::RateLimiter> background_limiter::current() const {
  std::lock_guard lock(mutex_);
  return inner_;
}

std::int64_t background_limiter::limit_now() const {
  auto inner = current();
  return inner ? inner->GetBytesPerSecond() : 0;
}

void background_limiter::Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats) {
  bytes_[slot(pri)].fetch_add(bytes, std::memory_order_relaxed);
  requests_[slot(pri)].fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<rocksdb::RateLimiter> inner;
  {
    std::lock_guard lock(mutex_);
    if (inner_) {
      auto now = clock::now();
      if (now - sample_time_ >= std::chrono::milliseconds(250)) resample_locked(now);
    }
    inner = inner_;
  }
  // A write sized while nothing was limited may be larger than one limited burst.
  while (inner && bytes > 0) {
    auto part = std::min(bytes, inner->GetSingleBurstBytes());
    inner->Request(part, pri, stats, OpType::kWrite);
    bytes -= part;
  }
}

int64_t background_limiter::GetSingleBurstBytes() const {
  auto inner = current();
  return inner ? inner->GetSingleBurstBytes() : unlimited_burst_bytes;
}

int64_t background_limiter::GetTotalBytesThrough(rocksdb::Env::IOPriority pri) const {
  if (pri < rocksdb::Env::IO_TOTAL) return bytes_[slot(pri)].load(std::memory_order_relaxed);
  std::int64_t sum = 0;
  for (const auto& b : bytes_) sum += b.load(std::memory_order_relaxed);
  return sum;
}

int64_t background_limiter::GetTotalRequests(rocksdb::Env::IOPriority pri) const {
  if (pri < rocksdb::Env::IO_TOTAL) return requests_[slot(pri)].load(std::memory_order_relaxed);
  std::int64_t sum = 0;
  for (const auto& r : requests_) sum += r.load(std::memory_order_relaxed);
  return sum;
}

int64_t background_limiter::GetBytesPerSecond() const {
  auto inner = current();
  return inner ? inner->GetBytesPerSecond() : unlimited_write_rate;
}

error to_error(const rocksdb::Status& s, std::string_view what) {
  errc code = errc::io_error;
  if (s.IsNotFound()) code = errc::not_found;
  else if (s.IsCorruption()) code = errc::corruption;
  else if (s.IsInvalidArgument()) code = errc::invalid_argument;
  else if (s.IsBusy() || s.IsTryAgain() || s.IsIncomplete()) code = errc::overloaded;
  else if (s.IsShutdownInProgress()) code = errc::shutting_down;
  return make_error(code, std::string(what) + ": " + s.ToString());
}

std::optional<std::int64_t> envelope_created_at(std::string_view value) {
  auto env = parse_envelope(value);
  if (!env) return std::nullopt;
  return env->created_at_ms;
}

bool ttl_filter::Filter(int, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string*,
                        bool*) const {
  auto created = envelope_created_at(as_view(value));
  // A value that does not parse is kept for an operator to look at, never dropped.
  return created && policy_->is_expired(family_, as_view(key), *created);
}

namespace {

// The table property each SST file of a TTL family carries: the oldest creation time of
// each tenant's records in it, "tenant=ms;..." (the dedup family has no tenants: "=ms").
// Past max_tenants_listed tenants only the oldest time of all is kept, as "*=ms".
constexpr const char* oldest_property = "parley.oldest";
constexpr std::size_t max_tenants_listed = 64;

class oldest_collector final : public rocksdb::TablePropertiesCollector {
 public:
  explicit oldest_collector(family f) : family_(f) {}

  rocksdb::Status AddUserKey(const rocksdb::Slice& key, const rocksdb::Slice& value, rocksdb::EntryType type,
                             rocksdb::SequenceNumber, std::uint64_t) override {
    if (type != rocksdb::kEntryPut) return rocksdb::Status::OK();
    auto created = envelope_created_at(as_view(value));
    if (!created) return rocksdb::Status::OK();
    oldest_all_ = std::min(oldest_all_, *created);
    if (overflow_) return rocksdb::Status::OK();
    std::string tenant = tenant_of(family_, as_view(key)).value_or(std::string());
    auto it = oldest_.find(tenant);
    if (it == oldest_.end()) {
      if (oldest_.size() >= max_tenants_listed) {
        overflow_ = true;
        oldest_.clear();
        return rocksdb::Status::OK();
      }
      oldest_.emplace(std::move(tenant), *created);
    } else {
      it->second = std::min(it->second, *created);
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status Finish(rocksdb::UserCollectedProperties* properties) override {
    properties->emplace(oldest_property, encoded());
    return rocksdb::Status::OK();
  }
  rocksdb::UserCollectedProperties GetReadableProperties() const override { return {{oldest_property, encoded()}}; }
  const char* Name() const override { return "parley.oldest_collector"; }

 private:
  std::string encoded() const {
    if (oldest_all_ == std::numeric_limits<std::int64_t>::max()) return {};
    if (overflow_) return "*=" + std::to_string(oldest_all_) + ";";
    std::string out;
    for (const auto& [tenant, ms] : oldest_) out += tenant + "=" + std::to_string(ms) + ";";
    return out;
  }
  family family_;
  std::int64_t oldest_all_ = std::numeric_limits<std::int64_t>::max();
  bool overflow_ = false;
  std::map<std::string, std::int64_t> oldest_;
};

class oldest_collector_factory final : public rocksdb::TablePropertiesCollectorFactory {
 public:
  explicit oldest_collector_factory(family f) : family_(f) {}
  rocksdb::TablePropertiesCollector* CreateTablePropertiesCollector(Context) override {
    return new oldest_collector(family_);
  }
  const char* Name() const override { return "parley.oldest_collector"; }

 private:
  family family_;
};

bool has_retention(family f) {
  return f == family::messages || f == family::raw_webhooks || f == family::events || f == family::dedup;
}

// True when a file whose property reads `oldest` may hold a record past its lifetime.
bool may_hold_expired(family f, std::string_view oldest, const retention_policy& policy) {
  std::int64_t now = policy.time().now_ms();
  while (!oldest.empty()) {
    auto end = oldest.find(';');
    auto entry = oldest.substr(0, end);
    oldest = end == std::string_view::npos ? std::string_view() : oldest.substr(end + 1);
    auto eq = entry.rfind('=');
    if (eq == std::string_view::npos) continue;
    std::int64_t ms = 0;
    auto digits = entry.substr(eq + 1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), ms).ec != std::errc()) continue;
    auto tenant = entry.substr(0, eq);
    std::int64_t lifetime = tenant == "*" ? policy.shortest_lifetime_ms(f) : policy.lifetime_ms(f, tenant);
    if (lifetime > 0 && ms + lifetime <= now) return true;
  }
  return false;
}

}  // namespace

result<std::shared_ptr<const aead_key>> store::impl::tenant_key(std::string_view tenant) const {
  // Loads happen under the lock so a concurrent destroy can never be undone by a load
  // that read the wrapped key just before it was deleted. Loads are rare (cached).
  std::lock_guard lock(keys_mutex);
  if (auto it = tenant_keys.find(std::string(tenant)); it != tenant_keys.end()) return it->second;
  std::string wrapped;
  auto meta_key = tenant_key_meta_key(tenant);
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf(family::meta), meta_key, &wrapped);
  if (s.IsNotFound()) return make_error(errc::key_destroyed, "tenant has no data key");
  if (!s.ok()) return to_error(s, "read tenant key");
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(wrapped.data()), wrapped.size());
  if (!verifier.VerifyBuffer<fb::WrappedKey>(nullptr)) {
    return make_error(errc::corruption, "tenant key record does not parse");
  }
  auto* wk = flatbuffers::GetRoot<fb::WrappedKey>(wrapped.data());
  if (wk->sealed_key() == nullptr) return make_error(errc::corruption, "tenant key record is empty");
  std::string raw;
  std::string_view sealed(reinterpret_cast<const char*>(wk->sealed_key()->data()), wk->sealed_key()->size());
  if (auto st = storage::open(options.master_key, location_aad(family::meta, meta_key), sealed, raw); !st) {
    return make_error(errc::corruption, "tenant key does not open with this master key");
  }
  auto key = aead_key::from_bytes(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  if (!key) return make_error(errc::corruption, "tenant key has the wrong size");
  auto shared = std::make_shared<const aead_key>(*key);
  tenant_keys.insert_or_assign(std::string(tenant), shared);
  return shared;
}

store::store(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

store::~store() {
  if (!impl_ || !impl_->db) return;
  impl_->open = false;
  // Flush so a restart replays little WAL; the WAL alone would also be enough. A log
  // that failed is left as it is (RocksDB refuses to write it again).
  if (!impl_->log_failed.load()) (void)impl_->db->FlushWAL(true);
  for (auto* h : impl_->handles) {
    if (h != nullptr) (void)impl_->db->DestroyColumnFamilyHandle(h);
  }
  (void)impl_->db->Close();
}

result<std::unique_ptr<store>> store::open(store_options options) {
  if (!options.retention) return make_error(errc::invalid_argument, "store needs a retention policy");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return make_error(errc::io_error, "cannot create data directory: " + ec.message());

  auto i = std::make_unique<impl>();
  i->options = std::move(options);

  rocksdb::DBOptions db_options;
  if (i->options.env != nullptr) db_options.env = i->options.env;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 4;
  db_options.max_total_wal_size = i->options.max_wal_bytes;
  if (i->options.delete_bytes_per_second > 0) {
    // Large files go 1 MiB at a time (one truncate each): on a disk mounted with
    // `discard`, each truncate's freed blocks are trimmed inside the journal commit that
    // every WAL fsync waits for. Measured with 2 GiB freed at 64 MiB/s under 2,000
    // webhooks/s: p99 ~55 ms with 64 MiB chunks, ~18 ms with 8 MiB, ~14.5 ms with 1 MiB
    // (13.6-15 ms without any deletion). Outside maintenance, trash past a quarter of the
    // database is deleted at once, so steady compaction churn faster than the rate
    // cannot pile up.
    constexpr std::uint64_t chunk = 1u << 20;
    i->files.reset(rocksdb::NewSstFileManager(db_options.env, nullptr, "",
                                              static_cast<std::int64_t>(i->options.delete_bytes_per_second), true,
                                              nullptr, steady_trash_ratio, chunk));
    db_options.sst_file_manager = i->files;
  }
  // Compactions (TTL sweeps, purges) run below the priority of the threads that serve
  // requests and commit; flushes keep theirs (the HIGH pool).
  if (i->options.low_priority_compaction) db_options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
  if (i->options.maintenance_write_bytes_per_second > 0) {
    // Unlimited until maintenance starts (hold_maintenance).
    i->limiter = std::make_shared<background_limiter>(i->bytes_written);
    db_options.rate_limiter = i->limiter;
  }

  // Index and filter blocks live in the block cache with the data (by default, the high-priority
  // half is theirs), partitioned so that only each file's small top level stays pinned.
  // Left outside the cache they are loaded whole for every open table file: ~30 MiB per
  // million stored messages, i.e. memory that grows with history nobody reads.
  auto cache = rocksdb::NewLRUCache(i->options.block_cache_bytes, -1, false, 0.5);
  i->block_cache = cache;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (family f : all_families) {
    rocksdb::ColumnFamilyOptions cf_options;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.metadata_cache_options.top_level_index_pinning = rocksdb::PinningTier::kAll;
    table.metadata_cache_options.partition_pinning = rocksdb::PinningTier::kFlushedAndSimilar;
    // Files written before the index was partitioned (stores from before 2026-12-02)
    // keep their whole index and filter pinned, as they used to be held, until
    // compaction rewrites them (periodic compaction: within a day). Unpinned, every
    // lookup in such a file would reload a block of up to a megabyte.
    table.metadata_cache_options.unpartitioned_pinning = rocksdb::PinningTier::kAll;
    table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.optimize_filters_for_memory = true;
    // Point lookups (dedup, identities, state) dominate: bloom filters make misses cheap.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    table.whole_key_filtering = true;
    const bool large_values = f == family::messages || f == family::raw_webhooks;
    if (large_values) {
      // ~1 KiB sealed bodies read a page of history at a time: 16 KiB blocks need a
      // quarter of the index entries of 4 KiB ones.
      table.block_size = 16u << 10;
    }
    // Messages, raw bodies and events are read by keys that exist (history pages, a
    // message by its id): a filter on their last level would only be memory.
    if (large_values || f == family::events) cf_options.optimize_filters_for_hits = true;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf_options.compression = rocksdb::kNoCompression;  // bodies are sealed: they don't compress
    cf_options.memtable_insert_with_hint_prefix_extractor = insert_locality_for(f);
    i->insert_hints[static_cast<std::size_t>(f)] = cf_options.memtable_insert_with_hint_prefix_extractor;
    auto& filter = i->filters[static_cast<std::size_t>(f)];
    filter = std::make_unique<ttl_filter>(f, i->options.retention);
    cf_options.compaction_filter = filter.get();
    cf_options.periodic_compaction_seconds = i->options.periodic_compaction_seconds;
    if (f == family::dedup) {
      // Nearly every dedup lookup is for a new id, i.e. a miss: a bloom filter over the
      // memtable's keys answers most of them without a search of its skip list.
      cf_options.memtable_prefix_bloom_size_ratio = 0.02;
      cf_options.memtable_whole_key_filtering = true;
    }
    if (has_retention(f)) {
      cf_options.table_properties_collector_factories.push_back(std::make_shared<oldest_collector_factory>(f));
    }
    descriptors.emplace_back(std::string(family_name(f)), cf_options);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, i->options.path, descriptors, &handles, &raw_db);
  if (!s.ok()) return to_error(s, "open RocksDB at " + i->options.path);
  i->db.reset(raw_db);
  // handles[0] is the default family, which Parley does not use.
  (void)i->db->DestroyColumnFamilyHandle(handles[0]);
  for (std::size_t n = 0; n < family_count; ++n) i->handles[n] = handles[n + 1];
  i->open = true;
  return std::unique_ptr<store>(new store(std::move(i)));
}

result<encoded_op> store::encode(write_op op) const {
  encoded_op out{op.fam, std::move(op.key), {}, op.erase, std::move(op.range_end)};
  if (op.erase && !out.range_end.empty()) {
    if (const auto& hints = impl_->insert_hints[static_cast<std::size_t>(op.fam)];
        hints && hints->InDomain(as_slice(out.key))) {
      return make_error(errc::invalid_argument, "a range erase must start at a key prefix (write_op::remove_prefix)");
    }
  }
  if (op.erase) return out;
  std::int64_t created = op.created_at_ms != 0 ? op.created_at_ms : impl_->options.retention->time().now_ms();
  if (!op.seal) {
    out.value.reserve(envelope_header + op.body.size());
    put_envelope_header(out.value, created, false);
    out.value.append(op.body);
    return out;
  }
  auto tenant = tenant_of(op.fam, out.key);
  if (!tenant) return make_error(errc::invalid_argument, "sealed records need a tenant-scoped key");
  auto key = impl_->tenant_key(*tenant);
  if (!key) return std::move(key).err();
  out.value.reserve(envelope_header + op.body.size() + aead_overhead);
  put_envelope_header(out.value, created, true);
  if (auto st = storage::seal(**key, location_aad(op.fam, out.key), op.body, out.value); !st) {
    return std::move(st).err();
  }
  return out;
}

result<record> store::decode(family f, std::string_view key, std::string_view value) const {
  auto env = parse_envelope(value);
  if (!env) return make_error(errc::corruption, "stored record does not parse");
  if (impl_->options.retention->is_expired(f, key, env->created_at_ms)) {
    return make_error(errc::expired, "record is past its retention");
  }
  record out{std::string(key), env->created_at_ms, {}};
  if (!env->sealed) {
    out.body.assign(env->body);
    return out;
  }
  auto tenant = tenant_of(f, key);
  if (!tenant) return make_error(errc::corruption, "sealed record without a tenant");
  auto tkey = impl_->tenant_key(*tenant);
  if (!tkey) return std::move(tkey).err();
  if (auto st = storage::open(**tkey, location_aad(f, key), env->body, out.body); !st) return std::move(st).err();
  return out;
}

status store::write(std::span<const write_op> ops, bool sync) {
  std::vector<encoded_op> encoded;
  encoded.reserve(ops.size());
  for (const auto& op : ops) {
    auto e = encode(op);
    if (!e) return std::move(e).err();
    encoded.push_back(std::move(*e));
  }
  return write_encoded(encoded, sync);
}

status store::write_encoded(std::span<const encoded_op> ops, bool sync) {
  if (!impl_->open) return make_error(errc::shutting_down, "store is closed");
  rocksdb::WriteBatch batch;
  for (const auto& op : ops) {
    rocksdb::Status s = !op.erase              ? batch.Put(impl_->cf(op.fam), op.key, op.value)
                        : op.range_end.empty() ? batch.Delete(impl_->cf(op.fam), op.key)
                                               : batch.DeleteRange(impl_->cf(op.fam), op.key, op.range_end);
    if (!s.ok()) return to_error(s, "build batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = impl_->db->Write(wo, &batch);
  if (!s.ok()) return to_error(s, "write batch");
  impl_->note_written(batch.GetDataSize());
  return {};
}

result<record> store::get(family f, std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(f), as_slice(key), &value);
  if (s.IsNotFound()) return make_error(errc::not_found, "no such record");
  if (!s.ok()) return to_error(s, "get");
  auto rec = decode(f, key, as_view(value));
  if (!rec && rec.code() == errc::expired) return make_error(errc::not_found, "no such record");
  return rec;
}

std::vector<result<record>> store::multi_get(family f, std::span<const std::string> keys) const {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& k : keys) slices.emplace_back(k);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->cf(f), keys.size(), slices.data(), values.data(),
                      statuses.data());
  std::vector<result<record>> out;
  out.reserve(keys.size());
  for (std::size_t n = 0; n < keys.size(); ++n) {
    if (statuses[n].IsNotFound()) {
      out.emplace_back(make_error(errc::not_found, "no such record"));
    } else if (!statuses[n].ok()) {
      out.emplace_back(to_error(statuses[n], "multi_get"));
    } else {
      auto rec = decode(f, keys[n], as_view(values[n]));
      if (!rec && rec.code() == errc::expired) {
        out.emplace_back(make_error(errc::not_found, "no such record"));
      } else {
        out.push_back(std::move(rec));
      }
    }
  }
  return out;
}

namespace {

// An iterator confined to [lower, upper) (upper empty: no upper bound). It owns the bound
// strings because RocksDB keeps pointers to them for the iterator's whole life.
class bounded_iterator {
 public:
  bounded_iterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view lower, std::string upper,
                   const rocksdb::Snapshot* snapshot = nullptr, bool fill_cache = true)
      : lower_(lower), upper_(std::move(upper)), lower_slice_(lower_), upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
    ro.snapshot = snapshot;
    ro.fill_cache = fill_cache;
    it_.reset(db->NewIterator(ro, cf));
  }
  rocksdb::Iterator* operator->() const { return it_.get(); }
  [[nodiscard]] const rocksdb::Slice& lower() const { return lower_slice_; }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

result<std::vector<record>> store::read_reverse(family f, std::string_view prefix, std::string_view before_key,
                                                std::size_t limit) const {
  bounded_iterator it(impl_->db.get(), impl_->cf(f), prefix,
                      before_key.empty() ? prefix_successor(prefix) : std::string(before_key));
  std::vector<record> out;
  for (it->SeekToLast(); it->Valid() && out.size() < limit; it->Prev()) {
    auto rec = decode(f, as_view(it->key()), as_view(it->value()));
    if (rec) {
      out.push_back(std::move(*rec));
    } else if (rec.code() != errc::expired) {
      return std::move(rec).err();
    }
  }
  if (!it->status().ok()) return to_error(it->status(), "read_reverse");
  return out;
}

result<std::vector<record>> store::read_forward(family f, std::string_view prefix, std::string_view after_key,
                                                std::size_t limit) const {
  bounded_iterator it(impl_->db.get(), impl_->cf(f), prefix, prefix_successor(prefix));
  std::vector<record> out;
  if (after_key.empty()) {
    it->Seek(it.lower());
  } else {
    it->Seek(as_slice(after_key));
    if (it->Valid() && it->key().ToStringView() == after_key) it->Next();
  }
  for (; it->Valid() && out.size() < limit; it->Next()) {
    auto rec = decode(f, as_view(it->key()), as_view(it->value()));
    if (rec) {
      out.push_back(std::move(*rec));
    } else if (rec.code() != errc::expired) {
      return std::move(rec).err();
    }
  }
  if (!it->status().ok()) return to_error(it->status(), "read_forward");
  return out;
}

namespace {

class snapshot_cursor final : public scan_cursor {
 public:
  snapshot_cursor(const store& owner, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, family f,
                  std::string_view prefix)
      : owner_(owner),
        family_(f),
        snapshot_(db),
        // Exports must not evict the hot set: no block cache fill.
        it_(db, cf, prefix, prefix_successor(prefix), snapshot_.get(), false) {
    it_->Seek(it_.lower());
  }

  bool next(record& out) override {
    for (; it_->Valid(); it_->Next()) {
      auto rec = owner_.decode(family_, as_view(it_->key()), as_view(it_->value()));
      if (!rec && rec.code() == errc::expired) continue;
      if (!rec) {
        error_ = std::move(rec).err();
        return false;
      }
      out = std::move(*rec);
      it_->Next();
      return true;
    }
    if (!it_->status().ok()) error_ = to_error(it_->status(), "scan");
    return false;
  }
  const status& error() const noexcept override { return error_; }

 private:
  // Released after the iterator that reads it (members die in reverse order).
  class held_snapshot {
   public:
    explicit held_snapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
    ~held_snapshot() { db_->ReleaseSnapshot(snapshot_); }
    held_snapshot(const held_snapshot&) = delete;
    held_snapshot& operator=(const held_snapshot&) = delete;
    [[nodiscard]] const rocksdb::Snapshot* get() const { return snapshot_; }

   private:
    rocksdb::DB* db_;
    const rocksdb::Snapshot* snapshot_;
  };

  const store& owner_;
  family family_;
  held_snapshot snapshot_;
  bounded_iterator it_;
  status error_;
};

}  // namespace

std::unique_ptr<scan_cursor> store::scan(family f, std::string_view prefix) const {
  return std::make_unique<snapshot_cursor>(*this, impl_->db.get(), impl_->cf(f), f, prefix);
}

status store::create_tenant_key(std::string_view tenant) {
  // One creator at a time, or two racing creators could each write a different key.
  std::lock_guard create_lock(impl_->create_mutex);
  auto existing = impl_->tenant_key(tenant);
  if (existing) return {};
  if (existing.code() != errc::key_destroyed) return std::move(existing).err();
  auto key = aead_key::random();
  auto meta_key = tenant_key_meta_key(tenant);
  std::string sealed;
  if (auto st = storage::seal(impl_->options.master_key, location_aad(family::meta, meta_key), key.view(), sealed); !st) {
    return st;
  }
  flatbuffers::FlatBufferBuilder builder(128);
  auto sealed_offset = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(sealed.data()), sealed.size());
  builder.Finish(fb::CreateWrappedKey(builder, 1, impl_->options.retention->time().now_ms(), sealed_offset));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Slice value(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
  rocksdb::Status s = impl_->db->Put(wo, impl_->cf(family::meta), meta_key, value);
  if (!s.ok()) return to_error(s, "store tenant key");
  std::lock_guard lock(impl_->keys_mutex);
  impl_->tenant_keys.insert_or_assign(std::string(tenant), std::make_shared<const aead_key>(key));
  return {};
}

status store::destroy_tenant_key(std::string_view tenant) {
  auto meta_key = tenant_key_meta_key(tenant);
  {
    // Under the key lock: no seal or open can fetch the key while it is being deleted.
    std::lock_guard lock(impl_->keys_mutex);
    impl_->tenant_keys.erase(std::string(tenant));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = impl_->db->Delete(wo, impl_->cf(family::meta), meta_key);
    if (!s.ok()) return to_error(s, "destroy tenant key");
  }
  return compact_key(family::meta, meta_key);
}

status store::erase_now(family f, std::string_view key) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = impl_->db->Delete(wo, impl_->cf(f), as_slice(key));
  if (!s.ok()) return to_error(s, "erase");
  return compact_key(f, key);
}

status store::compact_key(family f, std::string_view key) {
  // A delete leaves the old value in older SST files until compaction: compact the key's
  // range now (flushing the memtable first) so the value is physically gone.
  std::string begin(key);
  std::string end = prefix_successor(key);
  rocksdb::Slice begin_slice(begin), end_slice(end);
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status s = impl_->db->CompactRange(cro, impl_->cf(f), &begin_slice, end.empty() ? nullptr : &end_slice);
  if (!s.ok()) return to_error(s, "compact erased key");
  return {};
}

status store::check_master_key() {
  static constexpr std::string_view check_text = "parley master key check v1";
  auto meta_key = key_builder().u8(static_cast<std::uint8_t>(meta_kind::master_check)).take();
  auto aad = location_aad(family::meta, meta_key);
  std::string stored;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(family::meta), meta_key, &stored);
  if (s.IsNotFound()) {
    std::string sealed;
    if (auto st = storage::seal(impl_->options.master_key, aad, check_text, sealed); !st) return st;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = impl_->db->Put(wo, impl_->cf(family::meta), meta_key, sealed);
    if (!s.ok()) return to_error(s, "store master key check");
    return {};
  }
  if (!s.ok()) return to_error(s, "read master key check");
  std::string opened;
  if (!storage::open(impl_->options.master_key, aad, stored, opened) || opened != check_text) {
    return make_error(errc::unauthorized, "the master key does not match this data directory");
  }
  return {};
}

bool store::has_tenant_key(std::string_view tenant) const { return impl_->tenant_key(tenant).ok(); }

status store::flush() {
  if (impl_->log_failed.load()) return make_error(errc::io_error, "the write-ahead log failed: restart to recover");
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles(impl_->handles.begin(), impl_->handles.end());
  rocksdb::Status s = impl_->db->Flush(fo, handles);
  if (!s.ok()) return to_error(s, "flush");
  return {};
}

status store::checkpoint(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir(directory);
  if (!dir.is_absolute()) return make_error(errc::invalid_argument, "path: must be absolute");
  if (fs::exists(dir, ec)) return make_error(errc::already_exists, "path: already exists");
  if (!fs::is_directory(dir.parent_path(), ec)) return make_error(errc::invalid_argument, "path: its parent directory does not exist");
  if (!fs::create_directory(dir, ec) || ec) return make_error(errc::io_error, "path: cannot create the directory");
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return to_error(s, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  // Flush first (log_size_for_flush 0): the snapshot then needs no WAL replay to be whole.
  s = cp->CreateCheckpoint((dir / "db").string(), 0);
  if (!s.ok()) return to_error(s, "checkpoint");
  return {};
}

result<std::size_t> store::rotate_master_key(const aead_key& next) {
  std::lock_guard create_lock(impl_->create_mutex);
  std::lock_guard keys_lock(impl_->keys_mutex);
  rocksdb::WriteBatch batch;
  std::size_t count = 0;
  std::string prefix = key_builder().u8(static_cast<std::uint8_t>(meta_kind::tenant_key)).take();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(family::meta)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string key = it->key().ToString();
    std::string wrapped = it->value().ToString();
    flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(wrapped.data()), wrapped.size());
    if (!verifier.VerifyBuffer<fb::WrappedKey>(nullptr)) return make_error(errc::corruption, "a tenant key record does not parse");
    auto* wk = flatbuffers::GetRoot<fb::WrappedKey>(wrapped.data());
    if (wk->sealed_key() == nullptr) return make_error(errc::corruption, "a tenant key record is empty");
    std::string raw, sealed;
    std::string_view old_sealed(reinterpret_cast<const char*>(wk->sealed_key()->data()), wk->sealed_key()->size());
    auto aad = location_aad(family::meta, key);
    if (!storage::open(impl_->options.master_key, aad, old_sealed, raw)) {
      return make_error(errc::corruption, "a tenant key does not open with the current master key");
    }
    auto st = storage::seal(next, aad, raw, sealed);
    OPENSSL_cleanse(raw.data(), raw.size());
    if (!st) return std::move(st).err();
    flatbuffers::FlatBufferBuilder builder(128);
    auto sealed_offset = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(sealed.data()), sealed.size());
    builder.Finish(fb::CreateWrappedKey(builder, wk->version(), wk->created_at_ms(), sealed_offset));
    batch.Put(impl_->cf(family::meta), key,
              rocksdb::Slice(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()));
    ++count;
  }
  if (!it->status().ok()) return to_error(it->status(), "read tenant keys");
  static constexpr std::string_view check_text = "parley master key check v1";
  auto check_key = key_builder().u8(static_cast<std::uint8_t>(meta_kind::master_check)).take();
  std::string check;
  if (auto st = storage::seal(next, location_aad(family::meta, check_key), check_text, check); !st) return std::move(st).err();
  batch.Put(impl_->cf(family::meta), check_key, check);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = impl_->db->Write(wo, &batch); !s.ok()) return to_error(s, "store re-wrapped keys");
  impl_->options.master_key = next;
  return count;
}

engine_stats store::stats() const {
  engine_stats out;
  auto* db = impl_->db.get();
  auto sum = [&](const std::string& property) {
    std::uint64_t total = 0;
    for (family f : all_families) {
      std::uint64_t v = 0;
      if (db->GetIntProperty(impl_->cf(f), property, &v)) total += v;
    }
    return total;
  };
  out.pending_compaction_bytes = sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  out.families_needing_compaction = sum(rocksdb::DB::Properties::kCompactionPending);  // 0 or 1 per family
  out.live_sst_bytes = sum(rocksdb::DB::Properties::kLiveSstFilesSize);
  out.memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  out.table_reader_bytes = sum(rocksdb::DB::Properties::kEstimateTableReadersMem);
  out.block_cache_bytes = impl_->block_cache->GetUsage();
  out.block_cache_capacity = impl_->block_cache->GetCapacity();
  // Job counts are database-wide properties: asked once, on any family.
  (void)db->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &out.running_compactions);
  (void)db->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &out.running_flushes);
  if (impl_->files) out.trash_bytes = impl_->files->GetTotalTrashSize();
  if (impl_->limiter) out.background_write_limit = static_cast<std::uint64_t>(impl_->limiter->limit_now());
  return out;
}

status store::compact(family f) {
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Status s = impl_->db->CompactRange(cro, impl_->cf(f), nullptr, nullptr);
  if (!s.ok()) return to_error(s, "compact");
  return {};
}

status store::compact_range(family f, std::string_view begin, std::string_view end) {
  auto hold = hold_maintenance();
  std::string b(begin), e(end);
  rocksdb::Slice bs(b), es(e);
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  cro.exclusive_manual_compaction = false;  // automatic compactions go on meanwhile
  cro.max_subcompactions = 1;               // one background thread, not all of them
  rocksdb::Status s = impl_->db->CompactRange(cro, impl_->cf(f), &bs, e.empty() ? nullptr : &es);
  if (!s.ok()) return to_error(s, "compact range");
  return {};
}

result<sweep_stats> store::compact_expired() {
  sweep_stats stats;
  auto hold = hold_maintenance();
  if (auto st = flush(); !st) return std::move(st).err();
  const auto& policy = *impl_->options.retention;
  for (family f : all_families) {
    if (!has_retention(f)) continue;
    rocksdb::TablePropertiesCollection props;
    rocksdb::Status s = impl_->db->GetPropertiesOfAllTables(impl_->cf(f), &props);
    if (!s.ok()) return to_error(s, "read table properties");
    std::map<std::string, std::string> oldest_by_file;  // file name -> property
    for (const auto& [path, p] : props) {
      auto it = p->user_collected_properties.find(oldest_property);
      oldest_by_file[std::filesystem::path(path).filename().string()] =
          it == p->user_collected_properties.end() ? std::string("*=0;") : it->second;  // unknown: assume old
    }
    rocksdb::ColumnFamilyMetaData meta;
    impl_->db->GetColumnFamilyMetaData(impl_->cf(f), &meta);
    std::vector<std::pair<std::string, std::string>> ranges;
    for (const auto& level : meta.levels) {
      for (const auto& file : level.files) {
        ++stats.files_checked;
        auto it = oldest_by_file.find(std::filesystem::path(file.relative_filename).filename().string());
        if (it == oldest_by_file.end() || !may_hold_expired(f, it->second, policy)) continue;
        ranges.emplace_back(file.smallestkey, file.largestkey);
      }
    }
    // Overlapping ranges become one compaction.
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<std::string, std::string>> merged;
    for (auto& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(std::move(r));
      }
    }
    for (const auto& [begin, end] : merged) {
      // CompactRange's end is inclusive: [smallest, largest] covers the whole file.
      rocksdb::Slice bs(begin), es(end);
      rocksdb::CompactRangeOptions cro;
      cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      cro.exclusive_manual_compaction = false;
      cro.max_subcompactions = 1;
      s = impl_->db->CompactRange(cro, impl_->cf(f), &bs, &es);
      if (!s.ok()) return to_error(s, "compact expired range");
      ++stats.ranges_compacted;
      hold.refresh();
    }
  }
  return stats;
}

status store::purge(std::span<const std::pair<family, std::string>> prefixes) {
  // 1. Every range tombstone in one durable write: from here nothing of it is readable.
  std::vector<encoded_op> ops;
  for (const auto& [f, prefix] : prefixes) ops.push_back(encoded_op{f, prefix, {}, true, prefix_successor(prefix)});
  if (auto st = write_encoded(ops, true); !st) return st;
  auto hold = hold_maintenance();
  // 2. One flush of every family (one switch of the write-ahead log, which blocks
  //    writers for a moment: once per purge, not once per family). Afterwards the
  //    memtables hold nothing of the prefixes, so the compactions below flush nothing.
  if (auto st = flush(); !st) return st;
  for (const auto& [f, prefix] : prefixes) {
    std::string end = prefix_successor(prefix);
    rocksdb::Slice bs(prefix), es(end);
    // 3. SST files (below L0) that hold nothing but the prefix are dropped whole: no
    //    compaction reads or rewrites them, which is most of a large tenant.
    rocksdb::Status s =
        rocksdb::DeleteFilesInRange(impl_->db.get(), impl_->cf(f), &bs, end.empty() ? nullptr : &es, false);
    if (!s.ok()) return to_error(s, "delete files in range");
    // 4. What remains (L0, files shared with neighbouring keys) is compacted, range only.
    if (auto st = compact_range(f, prefix, end); !st) return st;
    hold.refresh();
  }
  return {};
}

status store::purge_prefix(family f, std::string_view prefix) {
  std::pair<family, std::string> one{f, std::string(prefix)};
  return purge(std::span(&one, 1));
}

result<std::uint64_t> store::count_in_files(family f, std::string_view prefix) const {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = impl_->db->Flush(fo, impl_->cf(f)); !s.ok()) return to_error(s, "flush");
  rocksdb::ColumnFamilyMetaData meta;
  impl_->db->GetColumnFamilyMetaData(impl_->cf(f), &meta);
  std::uint64_t n = 0;
  rocksdb::Options options;
  for (const auto& level : meta.levels) {
    for (const auto& file : level.files) {
      rocksdb::SstFileReader reader(options);
      rocksdb::Status s = reader.Open(file.directory + "/" + file.relative_filename);
      if (s.IsNotFound() || s.IsPathNotFound()) continue;  // compacted away meanwhile
      if (!s.ok()) return to_error(s, "open sst file");
      rocksdb::ReadOptions ro;
      ro.fill_cache = false;
      std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
      for (it->Seek(as_slice(prefix)); it->Valid() && it->key().starts_with(as_slice(prefix)); it->Next()) ++n;
    }
  }
  return n;
}

result<std::uint64_t> store::count_physical(family f, std::string_view prefix) const {
  bounded_iterator it(impl_->db.get(), impl_->cf(f), prefix, prefix_successor(prefix));
  std::uint64_t n = 0;
  for (it->Seek(it.lower()); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return to_error(it->status(), "count");
  return n;
}

void disable_thread_perf_counters() noexcept { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

store::maintenance_hold store::hold_maintenance() {
  auto& impl = *impl_;
  {
    std::lock_guard lock(impl.throttle_mutex);
    if (impl.throttled++ > 0) return maintenance_hold(&impl);  // nested: the outermost set the limit
    if (impl.files) impl.files->SetMaxTrashDBRatio(maintenance_trash_ratio);
    if (impl.limiter) impl.limiter->begin_sample();
  }
  if (impl.limiter) {
    // A moment of live traffic before the first limit is set: flushes must keep up.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    impl.limiter->start(static_cast<std::int64_t>(impl.options.maintenance_write_bytes_per_second));
  }
  return maintenance_hold(&impl);
}

store::maintenance_hold::~maintenance_hold() {
  if (impl_ == nullptr) return;
  std::lock_guard lock(impl_->throttle_mutex);
  if (--impl_->throttled > 0) return;
  if (impl_->limiter) impl_->limiter->stop();
  if (impl_->files) impl_->files->SetMaxTrashDBRatio(steady_trash_ratio);  // what is queued stays paced
}

void store::maintenance_hold::refresh() {
  if (impl_ == nullptr) return;
  std::lock_guard lock(impl_->throttle_mutex);
  if (impl_->throttled > 0 && impl_->limiter) impl_->limiter->resample();
}

bool store::healthy() const noexcept { return impl_->open.load() && !impl_->log_failed.load(); }
const retention_policy& store::retention() const noexcept { return *impl_->options.retention; }
const std::string& store::path() const noexcept { return impl_->options.path; }

write_op write_op::remove_prefix(family f, std::string_view prefix) {
  write_op op{f, std::string(prefix), {}, true, false, 0, prefix_successor(prefix)};
  return op;
}

}  // namespace parley::storage
