#pragma once
/// The tenant actor: one per tenant. Resolves who a message is from (identity, linking
/// by phone number and email), activates conversation actors on demand from stored
/// state and retires idle ones, and routes inbound messages and provider statuses to
/// them. Detached (its own thread): identity and state loads are RocksDB point reads.
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parley/actors/ack_tracker.hpp"
#include "parley/actors/atoms.hpp"
#include "parley/actors/inflight_ids.hpp"
#include "parley/actors/model.hpp"
#include "parley/actors/usage_meter.hpp"
#include "parley/inbound.hpp"
#include "parley/outbound.hpp"
#include "parley/storage/records.hpp"
#include "storage_writer/storage_writer.hpp"

namespace parley::actors {

class directory;

/// A verified, normalized webhook for one channel of this tenant.
struct inbound_job {
  std::shared_ptr<const channel_info> channel;
  /// The tenant actor is its only reader, and moves the messages out of it.
  std::shared_ptr<normalized_webhook> webhook;
  std::shared_ptr<const std::string> raw_body;  ///< kept sealed for raw_webhooks_days
  std::int64_t received_ms = 0;
  std::shared_ptr<ack_tracker> ack;
};

/// Everything a tenant's actors share. Owned by the engine; outlives the actors.
struct tenant_context {
  std::string tenant;
  std::shared_ptr<storage::store> db;
  storage_writer writer;
  directory* dir = nullptr;
  const clock* time = nullptr;
  std::vector<std::string> stop_keywords = {"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"};
  std::vector<std::string> start_keywords = {"START", "SUBSCRIBE", "UNSTOP"};
  std::int64_t conversation_idle_ms = 60'000;   ///< passivate a conversation idle this long
  std::size_t identity_cache_entries = 100'000; ///< bound on cached external id -> contact
  std::shared_ptr<inflight_ids> inflight = std::make_shared<inflight_ids>();  ///< per tenant
  std::shared_ptr<usage_meter> usage = std::make_shared<usage_meter>();       ///< per tenant
  /// Hands an accepted (committed) outbound message to its channel's delivery actor.
  /// Called on the storage writer's thread; must not block. Unset: nothing is delivered.
  std::function<void(storage::delivery_job)> deliver;
  /// Builds the stored record of an unfinished contact erasure (retention actor's
  /// erasure_record_op); unset: none is stored (tests without a retention actor).
  std::function<storage::write_op(const std::string& contact, const std::vector<std::string>& external_ids)> erasure_record;
};

/// Why a send was refused (API.md status and code in brackets).
enum class send_refusal : std::uint8_t {
  none,
  window_closed,         ///< 422 window_closed: free-form outside the 24-hour window
  opted_out,             ///< 422 opted_out
  idempotency_conflict,  ///< 409: same key, different request
  rate_limited,          ///< 429 + Retry-After: the tenant's send_requests_per_second
  quota_exceeded,        ///< 429: the tenant's monthly_outbound_quota
  contact_not_found,     ///< 404 not_found
  no_identity,           ///< 422 invalid_request: the contact is not reachable on that channel
};

/// The answer to one send: accepted (202), an idempotent replay of an earlier one (200)
/// or a refusal. Errors of storage travel as the result's error instead.
struct send_answer {
  send_refusal refusal = send_refusal::none;
  bool replayed = false;
  std::string message_id;
  std::string conversation_id;
  delivery_status status = delivery_status::queued;
  std::int64_t retry_after_s = 0;  ///< for rate_limited
};

/// POST /v1/messages (one message; a batch sends one per item). `payload.to` is set, or
/// `contact_id` names the recipient and the tenant finds their id on the channel.
struct send_request {
  std::shared_ptr<const channel_info> channel;
  outbound_payload payload;
  std::string contact_id;
  std::string idempotency_key;
  std::string request_digest;  ///< hex SHA-256 of the request, compared on key reuse
  bool bulk = false;
  std::int64_t not_before_ms = 0;
  std::int64_t valid_for_ms = 0;  ///< 0: no expiry
  std::function<void(result<send_answer>)> done;  ///< runs on any thread, exactly once
};

/// What came of a delivery attempt that ended the send (accepted or failed), from the
/// delivery actor.
struct send_result {
  storage::delivery_job job;
  send_outcome outcome;
  std::int64_t at_ms = 0;
};

/// Merge contact `other` into `contact` (API: POST /v1/contacts/{id}/merge): identities
/// re-pointed, channel states combined, the other's messages moved into this
/// conversation (renumbered after its last seq, so their ids change) and the other
/// contact removed. `done` gets the merged conversation state, or not_found.
struct merge_request {
  std::string contact;
  std::string other;
  std::function<void(result<storage::conversation_state>)> done;
};

/// Sets a contact's consent on one channel (API: PUT /v1/contacts/{id}/consent). `done`
/// gets the new state once durable, or not_found for an unknown contact.
struct consent_request {
  std::string contact;
  std::shared_ptr<const channel_info> channel;
  bool opted_in = true;
  std::function<void(result<storage::consent_state>)> done;
};

/// Erase a contact (admin API: DELETE …/contacts/{id}): the conversation is retired, and
/// one durable write removes its messages (a range delete), state, activity entry,
/// identities and links, and pending sends, and stores what is left for the retention
/// actor (events and raw payloads naming them, physical compaction). `done` gets the
/// contact's external ids once that write is durable (everything is 404 from then on),
/// or not_found for an unknown contact.
struct erase_contact_request {
  std::string contact;
  std::function<void(result<std::vector<std::string>>)> done;
};

/// Forget one message (admin API: DELETE …/messages/{id}): the record, its pending send
/// and its place in the conversation's count. `done` once durable; not_found if absent.
struct erase_message_request {
  std::string contact;
  std::uint64_t seq = 0;
  std::function<void(status)> done;
};

using tenant_actor = caf::typed_actor<caf::reacts_to<inbound_atom, inbound_job>,
                                      caf::reacts_to<consent_atom, consent_request>,
                                      caf::reacts_to<retire_atom, std::string, std::uint64_t>,
                                      caf::reacts_to<merge_atom, merge_request>,
                                      caf::reacts_to<send_atom, send_request>,
                                      caf::reacts_to<result_atom, send_result>,
                                      caf::reacts_to<released_atom, std::string, std::string, result<send_answer>>,
                                      caf::reacts_to<idle_atom, std::string>,
                                      caf::reacts_to<erase_atom, erase_contact_request>,
                                      caf::reacts_to<erase_atom, erase_message_request>,
                                      caf::reacts_to<tick_atom>,
                                      caf::reacts_to<purge_atom>>;

/// `purge_atom` (the tenant was deleted): the tenant retires its conversation actors a
/// few hundred at a time, then quits. Ending tens of thousands of actors at once would
/// hold the shared scheduler for a second and stall every other tenant's traffic.
///
/// Spawns the tenant's actor (detached).
[[nodiscard]] tenant_actor spawn_tenant(caf::actor_system& sys, std::shared_ptr<const tenant_context> ctx);

/// Number of conversation actors currently active across all tenants (for metrics/tests).
[[nodiscard]] std::size_t active_conversations() noexcept;

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::inbound_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::merge_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::consent_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::send_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::send_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::erase_contact_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::erase_message_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::result<parley::actors::send_answer>)
