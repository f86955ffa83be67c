#include "parley/storage/group_writer.hpp"

#include <rocksdb/write_batch.h>

#include <unordered_map>

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

}  // namespace

group_writer::group_writer(store& db, group_writer_options options)
    : db_(db), options_(std::move(options)), thread_([this] { run(); }) {}

group_writer::~group_writer() { stop(); }

status group_writer::submit(write_group group, commit_callback done) {
  queued item;
  item.ops.reserve(group.ops.size());
  for (auto& op : group.ops) {
    auto encoded = db_.encode(std::move(op));
    if (!encoded) return std::move(encoded).err();
    item.ops.push_back(std::move(*encoded));
  }
  item.if_absent = std::move(group.if_absent);
  item.done = std::move(done);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(errc::shutting_down, "storage writer is stopping");
    if (queue_.size() >= options_.max_pending_groups) {
      return make_error(errc::overloaded, "storage writer queue is full");
    }
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
}

std::size_t group_writer::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void group_writer::run() {
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

  // 2. Build one WriteBatch of every group that passes its guards, in submission order;
  //    a guard also sees the keys written by earlier groups of this batch.
  rocksdb::WriteBatch wb;
  std::unordered_map<std::string, const encoded_op*> written;
  std::size_t ref = 0;
  for (std::size_t g = 0; g < batch.size(); ++g) {
    auto& item = batch[g];
    bool duplicate = false;
    for (std::size_t k = 0; k < item.if_absent.size(); ++k, ++ref) {
      if (duplicate) continue;
      const auto& gd = item.if_absent[k];
      if (present[ref]) {
        outcomes[g] = commit_outcome{errc::duplicate, k, std::move(found[ref])};
        duplicate = true;
      } else if (auto it = written.find(guard_id(gd.fam, gd.key)); it != written.end()) {
        commit_outcome out{errc::duplicate, k, {}};
        if (auto rec = db_.decode(gd.fam, gd.key, it->second->value)) out.existing = std::move(rec->body);
        outcomes[g] = std::move(out);
        duplicate = true;
      }
    }
    if (duplicate) {
      ++stats.duplicates;
      continue;
    }
    for (const auto& op : item.ops) {
      rocksdb::Status s = op.erase ? wb.Delete(impl.cf(op.fam), op.key) : wb.Put(impl.cf(op.fam), op.key, op.value);
      if (!s.ok()) {
        outcomes[g].code = errc::internal;
        continue;
      }
      ++stats.records;
      stats.bytes += op.key.size() + op.value.size();
      if (!op.erase) written[guard_id(op.fam, op.key)] = &op;
    }
  }

  // 3. One write, one fsync.
  if (stats.records > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    auto start = std::chrono::steady_clock::now();
    rocksdb::Status s = impl.db->Write(wo, &wb);
    stats.write_time = std::chrono::steady_clock::now() - start;
    if (!s.ok()) {
      stats.ok = false;
      errc code = to_error(s, "commit").code;
      for (auto& out : outcomes) {
        if (out.code == errc::ok) out.code = code;
      }
    }
  }
  if (options_.on_commit) options_.on_commit(stats);

  // 4. Only now, after the fsync, tell each appender.
  for (std::size_t g = 0; g < batch.size(); ++g) {
    if (batch[g].done) batch[g].done(std::move(outcomes[g]));
  }
}

}  // namespace parley::storage
