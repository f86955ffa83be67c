#include "storage_writer/storage_writer_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace parley::actors {
namespace {

struct writer_state {
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::group_writer> writer;
  static inline const char* name = "storage_writer";
};

storage_writer_actor::behavior_type writer_behavior(storage_writer_actor::stateful_pointer<writer_state> self,
                                                    std::shared_ptr<storage::store> db,
                                                    std::shared_ptr<storage::group_writer> writer) {
  self->state.db = std::move(db);
  self->state.writer = std::move(writer);
  return {
      [self](append_atom, append_job& job) {
        auto done = std::move(job.done);
        // submit() encodes and seals here, on this detached actor's own thread.
        auto submitted = self->state.writer->submit(std::move(job.group), std::move(job.sequenced), done);
        if (!submitted && done) {
          storage::commit_outcome refused;
          refused.code = submitted.code();
          done(std::move(refused));
        }
      },
      [self](status_atom, status_probe& probe) {
        if (!probe.done) return;
        probe.done(writer_status{self->state.db->healthy(), self->state.writer->pending(), self->state.writer->sync()});
      },
  };
}

}  // namespace

storage_writer_actor spawn_storage_writer(caf::actor_system& sys, std::shared_ptr<storage::store> db,
                                          std::shared_ptr<storage::group_writer> writer) {
  return sys.spawn<caf::detached>(writer_behavior, std::move(db), std::move(writer));
}

}  // namespace parley::actors
