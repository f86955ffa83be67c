#pragma once
/// The storage writer actor: the first actor Parley spawns and the owner of the write
/// path. It accepts append jobs from anywhere (actors or the HTTP edge), encodes and
/// seals them on its own thread (it is detached: RocksDB and key loads may block, so it
/// never runs on CAF's shared scheduler) and hands them to the storage group-commit
/// writer, whose thread commits and then completes each job.
///
/// Completions run on the group-commit thread: they must be quick and never block (post
/// the answer to an Asio strand, or send a message to an actor).
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>

#include "parley/actors/atoms.hpp"
#include "parley/storage/group_writer.hpp"

namespace parley::actors {

/// An append: records to store atomically (with optional dedup guards) and who to tell.
/// The completion gets `ok`, `duplicate`, `overloaded`, `shutting_down`, or the error
/// that failed the commit; it is called exactly once.
struct append_job {
  storage::write_group group;
  storage::commit_callback done;
  std::vector<storage::sequenced_op> sequenced;  ///< feed records numbered at commit
};

/// The writer's state as seen by health checks.
struct writer_status {
  bool healthy = false;
  std::size_t pending = 0;  ///< groups queued for the next commits
  bool sync = true;
};

/// A health probe: answered with the writer's status on the writer actor's thread.
struct status_probe {
  std::function<void(writer_status)> done;
};

/// The whole protocol of the storage writer.
using storage_writer_actor = caf::typed_actor<caf::reacts_to<append_atom, append_job>,
                                              caf::reacts_to<status_atom, status_probe>>;

/// Spawns the writer (detached: its own thread). It shares ownership of `writer` and
/// `db`; stop `writer` only after this actor has exited.
[[nodiscard]] storage_writer_actor spawn_storage_writer(caf::actor_system& sys, std::shared_ptr<storage::store> db,
                                                        std::shared_ptr<storage::group_writer> writer);

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::append_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::status_probe)
