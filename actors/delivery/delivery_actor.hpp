#pragma once
/// The delivery actor: one per channel, spawned on first use by the `delivery_hub`. It
/// sends the channel's accepted outbound messages through the provider's API:
/// - pacing: a token bucket of the channel's `outbound_per_second` (defaults per type),
///   and a minimum gap per recipient where the provider limits it (Telegram 1/s);
/// - order: conversational messages before bulk ones; one message in flight per
///   recipient, so a customer receives their messages in the order they were accepted;
/// - `send_at` (not before) and `valid_for_seconds` (expires, fails with "expired");
/// - retries of transient failures with exponential backoff and jitter (first within
///   about 1 s, doubling, at most 60 s apart), or the provider's own delay; a throttle
///   answer also pauses the whole channel for that delay;
/// - the final result (accepted with the provider's id, or failed) goes to the tenant
///   actor, which has the conversation record it and drop the outbox job.
/// Runs on the scheduler: the HTTP call is asynchronous (the transport's callback posts
/// the outcome back as a message), and it never touches storage.
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>

#include "parley/actors/atoms.hpp"
#include "parley/actors/model.hpp"
#include "parley/clock.hpp"
#include "parley/outbound.hpp"
#include "parley/storage/records.hpp"

namespace parley::actors {

class directory;

/// Sends one message to the provider and calls `done` exactly once, on any thread.
using delivery_transport =
    std::function<void(const channel_info&, const outbound_payload&, std::function<void(send_outcome)> done)>;

/// What every delivery actor shares. Owned by the engine; outlives the actors.
struct delivery_context {
  directory* dir = nullptr;
  const clock* time = nullptr;
  delivery_transport transport;
  std::size_t max_in_flight = 64;                      ///< concurrent provider calls per channel
  std::int64_t first_retry_ms = 1'000;                 ///< backoff: first delay, doubling
  std::int64_t max_retry_ms = 60'000;                  ///< backoff cap
  std::int64_t give_up_after_ms = 24LL * 3'600'000;    ///< transient failures for this long: failed "undeliverable"
};

/// The outbound_per_second a channel type gets when the channel sets none (API.md).
[[nodiscard]] double default_outbound_rate(channel_type type) noexcept;
/// The minimum gap between two messages to one recipient (0: none).
[[nodiscard]] std::int64_t recipient_gap_ms(channel_type type) noexcept;

/// Process-wide delivery counters (for metrics).
struct delivery_counters {
  std::atomic<std::uint64_t> attempts{0};   ///< provider calls made
  std::atomic<std::uint64_t> sent{0};       ///< messages the providers accepted
  std::atomic<std::uint64_t> failed{0};     ///< messages that failed for good (incl. expired)
  std::atomic<std::uint64_t> retries{0};    ///< transient failures that will be retried
  std::atomic<std::uint64_t> throttled{0};  ///< provider answers that said "too fast"
  std::atomic<std::int64_t> queued{0};      ///< jobs waiting in delivery actors (incl. scheduled and retrying)
};
[[nodiscard]] delivery_counters& delivery_stats() noexcept;

/// One provider call that finished.
struct attempt_done {
  storage::delivery_job job;
  send_outcome outcome;
  std::int64_t started_ms = 0;  ///< when the call went out
};

using delivery_actor = caf::typed_actor<caf::reacts_to<deliver_atom, storage::delivery_job>,
                                        caf::reacts_to<result_atom, attempt_done>,
                                        caf::reacts_to<tick_atom>>;

/// The channel -> delivery actor map. `enqueue` is thread-safe and never spawns on the
/// caller's thread (the storage writer's completions call it): a router actor owns the
/// map and spawns each channel's actor, linked to itself, so stopping the router stops
/// them all.
class delivery_hub {
 public:
  delivery_hub(caf::actor_system& sys, std::shared_ptr<const delivery_context> ctx);
  /// Hands an accepted job to its channel's actor (spawning it on first use).
  void enqueue(storage::delivery_job job);
  /// Stops every delivery actor and refuses further jobs (they stay in the outbox).
  void stop();

 private:
  std::mutex mutex_;
  caf::actor router_;
};

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::storage::delivery_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::attempt_done)
