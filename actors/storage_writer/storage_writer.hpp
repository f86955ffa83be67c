#pragma once
/// The write path as actors see it: a handle to the storage group-commit writer. An
/// append is encoded and sealed on the caller's thread and queued; the writer's own
/// thread commits it with everything else queued meanwhile (one WriteBatch, one WAL
/// fsync) and then completes each append.
///
/// Appending never blocks: encoding is CPU work (a tenant's data key is read from storage
/// once and cached; tenant actors load it when they start, so conversation actors on the
/// shared scheduler never wait on a read), and a full queue refuses instead of waiting.
/// This used to be a detached actor of its own; calling the writer directly saves every
/// webhook a thread hand-off (BENCHMARKS.md, "2026-12-01 (later): one hand-off less").
///
/// Completions run on the writer's threads: they must be quick and never block (post
/// the answer to an Asio strand, or send a message to an actor).
#include <memory>
#include <vector>

#include "parley/storage/group_writer.hpp"

namespace parley::actors {

class storage_writer {
 public:
  storage_writer() = default;
  explicit storage_writer(std::shared_ptr<storage::group_writer> writer) : writer_(std::move(writer)) {}

  /// Stores `group` atomically (with its dedup guards) and `sequenced` (feed records
  /// numbered at commit). `done` is called exactly once: with `ok`, `duplicate`, the error
  /// that failed the commit, or at once (on this thread) with `overloaded`,
  /// `shutting_down` or an encoding error when the append is refused.
  void append(storage::write_group group, storage::commit_callback done,
              std::vector<storage::sequenced_op> sequenced = {}) const;

  /// False for a default-constructed handle (appends then complete with `shutting_down`).
  explicit operator bool() const noexcept { return writer_ != nullptr; }
  /// The writer itself (for its status and the feed's durable bound).
  [[nodiscard]] const std::shared_ptr<storage::group_writer>& group_writer() const noexcept { return writer_; }

 private:
  std::shared_ptr<storage::group_writer> writer_;
};

}  // namespace parley::actors
