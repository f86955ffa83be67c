#include "parley/storage/group_writer.hpp"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <optional>

#include "parley/storage/keys.hpp"
#include "parley/thread_name.hpp"
#include "store_impl.hpp"

namespace parley::storage {
namespace {

std::string guard_id(family f, std::string_view key) {
  std::string id;
  id.reserve(key.size() + 1);
  id.push_back(static_cast<char>(f));
  id.append(key);
  return id;
}

std::string hwm_key(family f, std::string_view prefix) {
  return key_builder(prefix.size() + 4)
      .u8(static_cast<std::uint8_t>(meta_kind::sequence_hwm))
      .u8(static_cast<std::uint8_t>(f))
      .str(prefix)
      .take();
}

std::string encode_u64(std::uint64_t v) { return key_builder(8).u64(v).take(); }

// A record's (family, key) as a view into the batch being committed: what a guard reads.
struct family_key {
  family fam;
  std::string_view key;
  bool operator==(const family_key&) const = default;
};
struct family_key_hash {
  std::size_t operator()(const family_key& k) const noexcept {
    return std::hash<std::string_view>{}(k.key) ^ static_cast<std::size_t>(k.fam);
  }
};

// One record of the batch being built; `order` is its place in submission order.
struct entry {
  const encoded_op* op;
  std::size_t order;
};

}  // namespace

group_writer::group_writer(store& db, group_writer_options options)
    : db_(db), options_(std::move(options)), thread_([this] { run(); }) {
  name_thread(thread_, "parley-writer");
  if (options_.sync && options_.pipeline != sync_pipeline::off) {
    sync_thread_ = std::thread([this] { run_sync(); });
    name_thread(sync_thread_, "parley-sync");
  }
}

group_writer::~group_writer() { stop(); }

status group_writer::submit(write_group group, commit_callback&& done) { return submit(std::move(group), {}, std::move(done)); }

status group_writer::submit(write_group group, std::vector<sequenced_op> sequenced, commit_callback&& done) {
  queued item;
  item.ops.reserve(group.ops.size());
  for (auto& op : group.ops) {
    auto encoded = db_.encode(std::move(op));
    if (!encoded) return std::move(encoded).err();
    item.ops.push_back(std::move(*encoded));
  }
  for (const auto& g : group.if_absent) {
    if (g.op_count > 0 && g.first_op + g.op_count > item.ops.size()) {
      return make_error(errc::invalid_argument, "guard range outside the group");
    }
  }
  item.if_absent = std::move(group.if_absent);
  item.sequenced = std::move(sequenced);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(errc::shutting_down, "storage writer is stopping");
    if (queue_.size() >= options_.max_pending_groups) {
      return make_error(errc::overloaded, "storage writer queue is full");
    }
    item.done = std::move(done);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
  return {};
}

void group_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(sync_mutex_);
    sync_stopping_ = true;
  }
  sync_wake_.notify_one();
  if (sync_thread_.joinable()) sync_thread_.join();
}

std::optional<std::uint64_t> group_writer::durable_bound(family f, std::string_view prefix) const {
  std::lock_guard lock(bounds_mutex_);
  auto it = bounds_.find(guard_id(f, prefix));
  if (it == bounds_.end() || it->second.durable >= it->second.handed_out) return std::nullopt;
  return it->second.durable;
}

void group_writer::mark_broken() {
  broken_.store(true);
  db_.internals().log_failed.store(true);
}

bool group_writer::healthy() const {
  if (broken_.load()) return false;
  std::lock_guard lock(mutex_);
  return !stopping_;
}

std::size_t group_writer::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void group_writer::run() {
  disable_thread_perf_counters();
  std::vector<queued> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Everything that accumulated while the previous commit ran becomes one batch.
      std::size_t n = std::min(queue_.size(), options_.max_batch_groups);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit(batch);
    batch.clear();
  }
}

result<std::uint64_t> group_writer::next_sequence(family f, const std::string& prefix) {
  thread_local std::string id;  // the writer's one thread: no allocation once it has grown
  id.assign(1, static_cast<char>(f));
  id.append(prefix);
  auto it = sequences_.find(id);
  if (it == sequences_.end()) {
    // First use since start: the larger of the stored high-water mark and the last key
    // (records may have expired and been compacted away; numbers are never reused).
    std::uint64_t last = 0;
    auto hwm = db_.get(family::meta, hwm_key(f, prefix));
    if (hwm) {
      key_reader r(hwm->body);
      last = r.u64().value_or(0);
    } else if (hwm.code() != errc::not_found) {
      return std::move(hwm).err();
    }
    auto& impl = db_.internals();
    std::string upper = prefix_successor(prefix);
    rocksdb::Slice lower_slice(prefix), upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> iter(impl.db->NewIterator(ro, impl.cf(f)));
    iter->SeekToLast();
    if (iter->Valid() && iter->key().size() >= prefix.size() + 8) {
      key_reader r(iter->key().ToStringView().substr(iter->key().size() - 8));
      last = std::max(last, r.u64().value_or(0));
    }
    if (!iter->status().ok()) return to_error(iter->status(), "sequence load");
    it = sequences_.emplace(id, last).first;
  }
  return ++it->second;
}

void group_writer::commit(std::vector<queued>& batch) {
  auto& impl = db_.internals();
  commit_stats stats;
  stats.groups = batch.size();
  std::vector<commit_outcome> outcomes(batch.size());

  // 1. Dedup guards: look every guard key up in one MultiGet per family.
  std::vector<std::pair<std::size_t, std::size_t>> guard_refs;  // (group, guard)
  for (std::size_t g = 0; g < batch.size(); ++g) {
    for (std::size_t k = 0; k < batch[g].if_absent.size(); ++k) guard_refs.emplace_back(g, k);
  }
  std::vector<std::string> found(guard_refs.size());
  std::vector<bool> present(guard_refs.size(), false);
  if (!guard_refs.empty()) {
    for (family f : all_families) {
      std::vector<std::size_t> idx;
      std::vector<rocksdb::Slice> keys;
      for (std::size_t r = 0; r < guard_refs.size(); ++r) {
        const auto& gd = batch[guard_refs[r].first].if_absent[guard_refs[r].second];
        if (gd.fam == f) {
          idx.push_back(r);
          keys.emplace_back(gd.key);
        }
      }
      if (idx.empty()) continue;
      std::vector<rocksdb::PinnableSlice> values(idx.size());
      std::vector<rocksdb::Status> statuses(idx.size());
      impl.db->MultiGet(rocksdb::ReadOptions(), impl.cf(f), keys.size(), keys.data(), values.data(),
                        statuses.data());
      for (std::size_t i = 0; i < idx.size(); ++i) {
        if (!statuses[i].ok()) continue;  // NotFound (or an error: the write will surface it)
        auto rec = db_.decode(f, keys[i].ToStringView(), values[i].ToStringView());
        if (rec) {
          present[idx[i]] = true;
          found[idx[i]] = std::move(rec->body);
        }
      }
    }
  }

  // 2. Choose what is written: every group (or part of a group) that passes its guards,
  //    in submission order; a guard also sees the keys written by earlier groups. Only
  //    families that some guard reads need remembering (views into the batch's ops).
  std::uint32_t guarded_families = 0;
  for (const auto& [g, k] : guard_refs) guarded_families |= 1u << static_cast<unsigned>(batch[g].if_absent[k].fam);
  std::vector<entry> entries;
  std::vector<encoded_op> numbered;  // sequenced ops with their final keys (entries point here)
  std::size_t op_count = 0, numbered_count = 0;
  for (const auto& item : batch) {
    op_count += item.ops.size();
    numbered_count += item.sequenced.size();
  }
  entries.reserve(op_count + 2 * numbered_count);
  numbered.reserve(2 * numbered_count + 1);  // one per sequenced op and at most one mark each: entries keep pointers, so no reallocation
  std::unordered_map<family_key, std::string_view, family_key_hash> written;  // -> encoded value
  // Sequence id (guard_id of family and prefix) -> the highest number this batch gives
  // out: stored as the prefix's high-water mark, and noted for the feed's durable bound.
  // A batch numbers for few prefixes (one per tenant with events): a list, not a map.
  std::vector<std::pair<std::string, std::uint64_t>> numbered_tops;
  // Per group, reused: which guards were hit, which ops are skipped, and the ranged
  // guards as (first op, guard) in op order.
  std::vector<bool> guard_hit, skip_op;
  std::vector<std::pair<std::size_t, std::size_t>> ranged;
  bool has_range_delete = false;
  std::size_t ref_base = 0;
  for (std::size_t g = 0; g < batch.size(); ++g) {
    auto& item = batch[g];
    auto& out = outcomes[g];
    const std::size_t base = ref_base;
    ref_base += item.if_absent.size();
    guard_hit.assign(item.if_absent.size(), false);
    // A guard is hit when its key is stored, or written by an earlier group of this
    // batch or an earlier part of this group.
    auto check = [&](std::size_t k) -> std::optional<std::string> {
      const auto& gd = item.if_absent[k];
      if (present[base + k]) return std::move(found[base + k]);
      if (auto it = written.find(family_key{gd.fam, gd.key}); it != written.end()) {
        auto rec = db_.decode(gd.fam, gd.key, it->second);
        return rec ? std::move(rec->body) : std::string();
      }
      return std::nullopt;
    };
    bool refused = false;
    ranged.clear();
    for (std::size_t k = 0; k < item.if_absent.size(); ++k) {
      if (item.if_absent[k].op_count > 0) {
        ranged.emplace_back(item.if_absent[k].first_op, k);
        continue;
      }
      if (auto existing = check(k); existing && !refused) {
        guard_hit[k] = true;
        out.code = errc::duplicate;
        out.guard_index = k;
        out.existing = std::move(*existing);
        refused = true;
      }
    }
    if (refused) {
      ++stats.duplicates;
      continue;
    }
    skip_op.assign(item.ops.size(), false);
    std::stable_sort(ranged.begin(), ranged.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::size_t next_ranged = 0;
    for (std::size_t i = 0; i < item.ops.size(); ++i) {
      for (; next_ranged < ranged.size() && ranged[next_ranged].first <= i; ++next_ranged) {
        const std::size_t k = ranged[next_ranged].second;
        auto existing = check(k);
        if (!existing) continue;
        guard_hit[k] = true;
        out.skipped.push_back(k);
        out.skipped_existing.push_back(std::move(*existing));
        const auto& gd = item.if_absent[k];
        for (std::size_t j = gd.first_op; j < gd.first_op + gd.op_count; ++j) skip_op[j] = true;
      }
      if (skip_op[i]) continue;
      const auto& op = item.ops[i];
      entries.push_back(entry{&op, entries.size()});
      has_range_delete = has_range_delete || (op.erase && !op.range_end.empty());
      ++stats.records;
      stats.bytes += op.key.size() + op.value.size();
      if (!op.erase && (guarded_families >> static_cast<unsigned>(op.fam) & 1u) != 0) {
        written[family_key{op.fam, op.key}] = op.value;
      }
    }
    if (!out.skipped.empty()) ++stats.duplicates;
    // Sequenced ops get their numbers now, in commit order, and are sealed with their
    // final key (the seal binds the key).
    out.sequences.assign(item.sequenced.size(), 0);
    for (std::size_t i = 0; i < item.sequenced.size(); ++i) {
      auto& seq_op = item.sequenced[i];
      if (seq_op.guarded_by < guard_hit.size() && guard_hit[seq_op.guarded_by]) continue;
      const std::string& prefix = seq_op.op.key;
      auto n = next_sequence(seq_op.op.fam, prefix);
      if (!n) {
        out.code = n.code();
        continue;
      }
      auto top = std::find_if(numbered_tops.begin(), numbered_tops.end(), [&](const auto& t) {
        return static_cast<family>(t.first.front()) == seq_op.op.fam && std::string_view(t.first).substr(1) == prefix;
      });
      if (top == numbered_tops.end()) numbered_tops.emplace_back(guard_id(seq_op.op.fam, prefix), *n);
      else top->second = *n;
      std::string full_key = prefix + encode_u64(*n);
      write_op op = std::move(seq_op.op);  // `prefix` refers into it: not used from here
      op.key = std::move(full_key);
      auto encoded = db_.encode(std::move(op));
      if (!encoded) {
        out.code = encoded.code();
        continue;
      }
      numbered.push_back(std::move(*encoded));
      entries.push_back(entry{&numbered.back(), entries.size()});
      ++stats.records;
      stats.bytes += numbered.back().key.size() + numbered.back().value.size();
      out.sequences[i] = *n;
    }
  }
  for (const auto& [id, n] : numbered_tops) {
    auto key = hwm_key(static_cast<family>(id.front()), std::string_view(id).substr(1));
    auto encoded = db_.encode(write_op::put(family::meta, key, encode_u64(n)));
    if (!encoded) continue;
    numbered.push_back(std::move(*encoded));
    entries.push_back(entry{&numbered.back(), entries.size()});
  }

  // In key order per family, RocksDB's memtable inserts reuse the previous insert's
  // position in the skip list instead of searching from the top each time. The order
  // is stable, so writes to one key keep their order; a batch with a range delete keeps
  // submission order (a range delete must come after the puts it removes).
  if (!has_range_delete) {
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
      if (a.op->fam != b.op->fam) return a.op->fam < b.op->fam;
      if (int c = a.op->key.compare(b.op->key); c != 0) return c < 0;
      return a.order < b.order;
    });
  }
  std::size_t batch_bytes = 64;
  for (const auto& e : entries) batch_bytes += e.op->key.size() + e.op->value.size() + e.op->range_end.size() + 24;
  rocksdb::WriteBatch wb(batch_bytes);
  for (const auto& e : entries) {
    const auto& op = *e.op;
    rocksdb::Status s = !op.erase              ? wb.Put(impl.cf(op.fam), op.key, op.value)
                        : op.range_end.empty() ? wb.Delete(impl.cf(op.fam), op.key)
                                               : wb.DeleteRange(impl.cf(op.fam), op.key, op.range_end);
    if (!s.ok()) {
      // Only a corrupt batch fails here; fail every group of it rather than store a part.
      stats.ok = false;
      for (auto& out : outcomes) {
        if (out.code == errc::ok) out.code = errc::internal;
      }
      stats.records = 0;
      break;
    }
  }

  // 3. One write and one fsync: here, or (pipelined, when more work waits or syncs are
  //    in flight) the sync thread's next one. Reports stay in commit order either way:
  //    a batch is synced here only when every earlier batch has been reported.
  const bool pipelined = options_.sync && (options_.pipeline == sync_pipeline::always ||
                                           (options_.pipeline == sync_pipeline::when_busy &&
                                            (unsynced_batches_.load() > 0 || pending() > 0)));
  if (stats.records > 0 && broken_.load()) {
    stats.ok = false;
    for (auto& out : outcomes) {
      if (out.code == errc::ok) out.code = errc::io_error;
    }
    stats.records = 0;
  }
  unsynced written_batch;
  if (options_.pipeline != sync_pipeline::off && stats.records > 0 && !numbered_tops.empty()) {
    // A pipelined batch's numbers are noted before the write makes them readable: feed
    // readers stop below them until the sync that makes them durable (finish()). A batch
    // synced here is readable only once durable; finish() notes it as durable at once.
    std::lock_guard lock(bounds_mutex_);
    for (auto& [id, n] : numbered_tops) {
      if (pipelined) bounds_[id].handed_out = std::max(bounds_[id].handed_out, n);
      written_batch.numbered.emplace_back(id, n);
    }
  }
  if (stats.records > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync && !pipelined;
    auto start = std::chrono::steady_clock::now();
    rocksdb::Status s = impl.db->Write(wo, &wb);
    stats.write_time = std::chrono::steady_clock::now() - start;
    if (s.ok()) impl.note_written(wb.GetDataSize());
    if (!s.ok()) {
      stats.ok = false;
      // A log that failed a write or an fsync is not written to again: what it holds is
      // unknown, and RocksDB's log writer refuses (asserts) any later write to it.
      if (s.IsIOError()) mark_broken();
      errc code = to_error(s, "commit").code;
      for (auto& out : outcomes) {
        if (out.code == errc::ok) out.code = code;
      }
      // Numbers handed out in a failed batch are not stored; forget the cached counters
      // so they are reloaded (the high-water mark on disk is still the old one).
      sequences_.clear();
    }
  }
  written_batch.done.reserve(batch.size());
  for (auto& item : batch) written_batch.done.push_back(std::move(item.done));
  written_batch.outcomes = std::move(outcomes);
  written_batch.needs_sync = stats.ok && stats.records > 0;
  written_batch.stats = stats;
  if (pipelined) {
    {
      std::lock_guard lock(sync_mutex_);
      ++unsynced_batches_;
      sync_queue_.push_back(std::move(written_batch));
    }
    sync_wake_.notify_one();
    return;
  }
  finish(written_batch);
}

// 4. Only once its fsync is done, each appender of a batch is told.
void group_writer::finish(unsynced& b) {
  if (!b.numbered.empty() && b.stats.ok) {
    std::lock_guard lock(bounds_mutex_);
    for (const auto& [id, n] : b.numbered) {
      auto& bound = bounds_[id];
      bound.durable = std::max(bound.durable, n);
      bound.handed_out = std::max(bound.handed_out, n);
    }
  }
  if (options_.on_commit) options_.on_commit(b.stats);
  for (std::size_t g = 0; g < b.done.size(); ++g) {
    if (b.done[g]) b.done[g](std::move(b.outcomes[g]));
  }
}

void group_writer::run_sync() {
  disable_thread_perf_counters();
  auto& impl = db_.internals();
  std::vector<unsynced> work;
  for (;;) {
    {
      std::unique_lock lock(sync_mutex_);
      sync_wake_.wait(lock, [this] { return sync_stopping_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;
      while (!sync_queue_.empty()) {
        work.push_back(std::move(sync_queue_.front()));
        sync_queue_.pop_front();
      }
    }
    // One sync covers every batch written so far: these and possibly later ones.
    bool needed = std::any_of(work.begin(), work.end(), [](const unsynced& b) { return b.needs_sync; });
    errc failed = errc::ok;
    std::chrono::nanoseconds sync_time{0};
    if (needed) {
      auto start = std::chrono::steady_clock::now();
      rocksdb::Status s = impl.db->SyncWAL();
      sync_time = std::chrono::steady_clock::now() - start;
      if (!s.ok()) {
        failed = to_error(s, "WAL sync").code;
        mark_broken();
      }
    }
    for (auto& b : work) {
      if (b.needs_sync) {
        b.stats.write_time += sync_time;
        if (failed != errc::ok) {
          b.stats.ok = false;
          for (auto& out : b.outcomes) {
            if (out.code == errc::ok || out.code == errc::duplicate) out.code = failed;
          }
        }
      }
      finish(b);
      --unsynced_batches_;
    }
    work.clear();
  }
}

}  // namespace parley::storage
