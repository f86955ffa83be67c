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
#include "parley/inbound.hpp"
#include "parley/storage/records.hpp"
#include "storage_writer/storage_writer_actor.hpp"

namespace parley::actors {

class directory;

/// A verified, normalized webhook for one channel of this tenant.
struct inbound_job {
  std::shared_ptr<const channel_info> channel;
  std::shared_ptr<const normalized_webhook> webhook;
  std::shared_ptr<const std::string> raw_body;  ///< kept sealed for raw_webhooks_days
  std::int64_t received_ms = 0;
  std::shared_ptr<ack_tracker> ack;
};

/// Everything a tenant's actors share. Owned by the engine; outlives the actors.
struct tenant_context {
  std::string tenant;
  std::shared_ptr<storage::store> db;
  storage_writer_actor writer;
  directory* dir = nullptr;
  const clock* time = nullptr;
  std::vector<std::string> stop_keywords = {"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"};
  std::vector<std::string> start_keywords = {"START", "SUBSCRIBE", "UNSTOP"};
  std::int64_t conversation_idle_ms = 60'000;   ///< passivate a conversation idle this long
  std::size_t identity_cache_entries = 100'000; ///< bound on cached external id -> contact
  std::shared_ptr<inflight_ids> inflight = std::make_shared<inflight_ids>();  ///< per tenant
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

using tenant_actor = caf::typed_actor<caf::reacts_to<inbound_atom, inbound_job>,
                                      caf::reacts_to<consent_atom, consent_request>,
                                      caf::reacts_to<retire_atom, std::string, std::uint64_t>,
                                      caf::reacts_to<merge_atom, merge_request>>;

/// Spawns the tenant's actor (detached).
[[nodiscard]] tenant_actor spawn_tenant(caf::actor_system& sys, std::shared_ptr<const tenant_context> ctx);

/// Number of conversation actors currently active across all tenants (for metrics/tests).
[[nodiscard]] std::size_t active_conversations() noexcept;

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::inbound_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::merge_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::consent_request)
