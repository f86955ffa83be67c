#pragma once
/// The retention actor: the one place where records are physically removed.
/// - A sweep every `sweep_interval` compacts the SST files that may hold records past
///   their tenant's retention (store::compact_expired), so expired data is gone from
///   disk within one interval of expiring, not only hidden from reads.
/// - The purge of a deleted tenant (its key is already destroyed and its keys, channels
///   and actor are gone when the purge starts): every record under its prefix in every
///   family, its dedup entries, usage and cursors, then its tenant record, after which
///   the id is free again.
/// - What a contact's erasure leaves for later: the events and raw webhooks that name
///   the contact, and the compaction that drops the erased records from the files.
/// Jobs run one at a time on this actor's own thread (detached), with RocksDB's
/// compaction threads at low CPU priority: a large purge never competes with live
/// traffic for more than one background thread. Unfinished purges and erasures are
/// stored (tenant status "purging", meta erasure records) and resumed at start.
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/actors/atoms.hpp"
#include "parley/clock.hpp"
#include "parley/result.hpp"
#include "parley/storage/store.hpp"

namespace parley::actors {

class directory;

/// Counters the retention actor keeps (exported as metrics).
struct retention_counters {
  std::atomic<std::uint64_t> sweeps{0};
  std::atomic<std::uint64_t> ranges_compacted{0};
  std::atomic<std::uint64_t> tenants_purged{0};
  std::atomic<std::uint64_t> contacts_erased{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> last_sweep_ms{0};
  std::atomic<std::int64_t> last_purge_ms{0};  ///< when the last tenant purge finished (unix ms)
};

struct retention_context {
  std::shared_ptr<storage::store> db;
  std::shared_ptr<storage::retention_policy> retention;
  directory* dir = nullptr;
  const clock* time = nullptr;
  std::chrono::milliseconds sweep_interval{std::chrono::minutes(10)};
  /// Set when the process stops: running compactions are cancelled, jobs resume at the
  /// next start.
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<retention_counters> counters = std::make_shared<retention_counters>();
  /// Called (on the retention thread) once a tenant's purge is complete.
  std::function<void(const std::string&)> on_purged;
};

/// Purge everything of a deleted tenant. `done` (optional) runs when it is complete.
struct purge_tenant_job {
  std::string tenant;
  std::function<void(status)> done;
};

/// Finish a contact's erasure (its live records are already deleted): remove the
/// events and raw webhooks that name it and compact the erased ranges out of the files.
struct erase_contact_job {
  std::string tenant;
  std::string contact;
  std::vector<std::string> external_ids;  ///< as they appear in raw provider payloads
  std::function<void(status)> done;
};

using retention_actor = caf::typed_actor<caf::reacts_to<sweep_atom>,
                                         caf::reacts_to<purge_atom, purge_tenant_job>,
                                         caf::reacts_to<erase_atom, erase_contact_job>>;

/// Spawns the retention actor (detached). It resumes stored purges and erasures at once
/// and sweeps every ctx->sweep_interval (the first sweep one interval after start).
[[nodiscard]] retention_actor spawn_retention(caf::actor_system& sys, std::shared_ptr<const retention_context> ctx);

/// The meta record that keeps an unfinished contact erasure (sealed: it holds the
/// contact's external ids). Written with the erasure's first, durable step.
[[nodiscard]] storage::write_op erasure_record_op(const erase_contact_job& job);
/// The meta record that lists a deleted tenant's channels (its dedup entries are keyed
/// by channel). Written with the tenant's "purging" record.
[[nodiscard]] storage::write_op purge_record_op(const std::string& tenant, const std::vector<std::string>& channel_ids);

/// The purge itself, on the caller's thread (the actor runs it; tests may too).
[[nodiscard]] status purge_tenant_records(const retention_context& ctx, const std::string& tenant);
/// The erasure follow-up itself, on the caller's thread.
[[nodiscard]] status finish_contact_erasure(const retention_context& ctx, const erase_contact_job& job);

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::purge_tenant_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::erase_contact_job)
