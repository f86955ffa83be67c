#pragma once
/// The conversation actor: one per (tenant, contact), activated by the tenant actor from
/// stored state and retired when idle. It serializes everything about one customer:
/// sequence numbers, the 24-hour window per channel, consent, monotone statuses, and
/// the records each message writes (message + dedup key + state + event, one group).
/// Runs on the cooperative scheduler and never blocks: storage reads are done by the
/// tenant actor before it hands work over; writes go to the storage writer actor.
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "parley/actors/ack_tracker.hpp"
#include "parley/actors/atoms.hpp"
#include "parley/actors/model.hpp"
#include "parley/storage/records.hpp"
#include "tenant/tenant_actor.hpp"

namespace parley::actors {

/// Messages of one webhook from one customer, already resolved to this contact.
struct conversation_inbound {
  std::shared_ptr<const channel_info> channel;
  std::vector<inbound_message> messages;
  storage::identity_entry identity;             ///< the identity they came from
  std::vector<storage::write_op> identity_ops;  ///< identity / link records to persist
  std::optional<storage::write_op> raw_body;    ///< the webhook's raw body, if this part keeps it
  std::int64_t received_ms = 0;
  std::shared_ptr<ack_tracker> ack;
};

/// A provider status for one of this conversation's messages, with the record as the
/// tenant read it (the conversation may hold a newer version).
struct conversation_status {
  std::shared_ptr<const channel_info> channel;
  inbound_status status;
  storage::message_record current;
  std::shared_ptr<ack_tracker> ack;
};

/// An outbound message for this contact, resolved by the tenant: `req.payload.to` is the
/// recipient's id on the channel. `done` answers the API (wrapped by the tenant).
struct conversation_send {
  send_request req;
  storage::identity_entry identity;             ///< the recipient's identity on the channel
  std::vector<storage::write_op> identity_ops;  ///< identity / link records to persist
};

/// The final result of delivering one of this conversation's messages, with the record
/// as the tenant read it (the conversation may hold a newer version).
struct conversation_send_result {
  send_result result;
  storage::message_record current;
};

/// What a commit did, sent back by the writer's completion.
struct conversation_committed {
  errc code = errc::ok;
  bool refused_send = false;          ///< a send that was not stored (key taken, or storage failed)
  std::size_t skipped = 0;            ///< duplicate messages the writer skipped
  /// How many identity records this conversation had handed to groups, counted from its
  /// start, when the group was submitted (every group carries all pending ones).
  std::uint64_t identity_end = 0;
  std::vector<std::string> stored_provider_ids;
};

/// Asks the conversation to report once nothing it wrote is still uncommitted; the
/// tenant sends it and routes nothing more to the conversation until it retires it.
struct quiesce_request {
  std::function<void()> done;  ///< runs on the conversation's thread
};

using conversation_actor = caf::typed_actor<caf::reacts_to<inbound_atom, conversation_inbound>,
                                            caf::reacts_to<consent_atom, consent_request>,
                                            caf::reacts_to<quiesce_atom, quiesce_request>,
                                            caf::reacts_to<pstatus_atom, conversation_status>,
                                            caf::reacts_to<send_atom, conversation_send>,
                                            caf::reacts_to<result_atom, conversation_send_result>,
                                            caf::reacts_to<committed_atom, conversation_committed>,
                                            caf::reacts_to<idle_atom, std::uint64_t>,
                                            caf::reacts_to<retire_atom>>;

/// Spawns a conversation from its loaded state, monitored by its tenant actor (the tenant
/// stops it when it stops itself). `retire` from the tenant makes it quit. `tenant` gets a retire request when the
/// conversation has been idle for ctx->conversation_idle_ms with nothing in flight.
[[nodiscard]] conversation_actor spawn_conversation(caf::actor_system& sys, std::shared_ptr<const tenant_context> ctx,
                                                    tenant_actor tenant, storage::conversation_state state);

}  // namespace parley::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::conversation_inbound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::conversation_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::conversation_send)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::conversation_send_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::conversation_committed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::actors::quiesce_request)
