#pragma once
/// Typed stored records and their FlatBuffers codecs (schemas/records.fbs), plus the key
/// layouts that go with them. Pure CPU; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/inbound.hpp"
#include "parley/outbound.hpp"
#include "parley/result.hpp"
#include "parley/storage/families.hpp"

namespace parley::storage {

/// Consent of a contact on one channel.
enum class consent_state : std::uint8_t { unknown = 0, opted_in = 1, opted_out = 2 };
[[nodiscard]] std::string_view to_string(consent_state c) noexcept;

struct status_entry {
  delivery_status status = delivery_status::received;
  std::int64_t at_ms = 0;
};

/// A stored message, inbound or outbound.
struct message_record {
  std::string id;
  std::uint64_t seq = 0;
  std::string channel_id;
  channel_type channel = channel_type::whatsapp;
  bool outbound = false;
  message_kind kind = message_kind::text;
  std::optional<std::string> text;
  std::string details_json = "{}";
  std::string provider_message_id;
  std::string external_id;
  delivery_status status = delivery_status::received;
  std::vector<status_entry> status_history;
  std::string error_code;
  std::string error_message;
  std::int64_t provider_ts_ms = 0;
  std::int64_t created_at_ms = 0;
  std::string reply_to;
  bool edited = false;
};

struct channel_state {
  std::string channel_id;
  channel_type channel = channel_type::whatsapp;
  std::int64_t window_expires_ms = 0;
  consent_state consent = consent_state::unknown;
};

struct identity_entry {
  std::string channel_id;
  channel_type channel = channel_type::whatsapp;
  std::string external_id;
};

/// A contact and its one conversation.
struct conversation_state {
  std::string contact_id;
  std::uint64_t last_seq = 0;
  std::uint64_t message_count = 0;
  std::int64_t last_message_at_ms = 0;
  std::vector<channel_state> channels;
  std::vector<identity_entry> identities;
  std::string display_name;
  std::string phone_e164;
  std::string email;
  /// When the customer's oldest unanswered message arrived (0: none); the next outbound
  /// message is the reply whose latency usage reports.
  std::int64_t awaiting_reply_since_ms = 0;

  /// The state of one channel, created (unknown consent, closed window) if absent.
  channel_state& channel(std::string_view channel_id, channel_type type);
  [[nodiscard]] const channel_state* find_channel(std::string_view channel_id) const;
};

[[nodiscard]] std::string encode(const message_record& m);
[[nodiscard]] result<message_record> decode_message(std::string_view bytes);
[[nodiscard]] std::string encode(const conversation_state& c);
[[nodiscard]] result<conversation_state> decode_conversation(std::string_view bytes);

// ---- ids ------------------------------------------------------------------------------
// A contact "ct_<R>" has the conversation "cv_<R>" and messages "msg_<R>_<seq>": ids map
// to their storage keys without an index.

/// The random part R of ct_/cv_ ids, or empty when `id` has not that shape.
[[nodiscard]] std::string id_tail(std::string_view id, std::string_view prefix);
[[nodiscard]] std::string conversation_id_for(std::string_view contact_id);
[[nodiscard]] std::string contact_id_for_conversation(std::string_view conversation_id);
[[nodiscard]] std::string message_id_for(std::string_view contact_id, std::uint64_t seq);
/// contact id and seq of a message id; nullopt when malformed.
[[nodiscard]] std::optional<std::pair<std::string, std::uint64_t>> parse_message_id(std::string_view message_id);

// ---- keys -----------------------------------------------------------------------------
[[nodiscard]] std::string message_key(std::string_view tenant, std::string_view contact, std::uint64_t seq);
[[nodiscard]] std::string message_prefix(std::string_view tenant, std::string_view contact);
/// conversations: tenant, 'c', contact -> conversation_state
[[nodiscard]] std::string conversation_key(std::string_view tenant, std::string_view contact);
/// conversations: tenant, 'a', (max - last activity ms), contact -> "" (most recent first)
[[nodiscard]] std::string activity_key(std::string_view tenant, std::int64_t last_message_at_ms, std::string_view contact);
[[nodiscard]] std::string activity_prefix(std::string_view tenant);
/// identities: tenant, 'x', channel type, external id -> contact
[[nodiscard]] std::string identity_key(std::string_view tenant, channel_type type, std::string_view external_id);
/// identities: tenant, 'p', e164 -> contact; tenant, 'e', email -> contact
[[nodiscard]] std::string phone_key(std::string_view tenant, std::string_view e164);
[[nodiscard]] std::string email_key(std::string_view tenant, std::string_view email);
/// dedup: channel, provider message id -> "tenant\0contact\0seq" reference
[[nodiscard]] std::string dedup_key(std::string_view channel_id, std::string_view provider_message_id);
/// events: tenant -> prefix of the tenant's feed (the writer appends the sequence)
[[nodiscard]] std::string event_prefix(std::string_view tenant);
/// raw_webhooks: tenant, received ms, id
[[nodiscard]] std::string raw_webhook_key(std::string_view tenant, std::int64_t received_ms, std::string_view id);

/// The reference stored under a dedup key: where the message lives.
struct message_ref {
  std::string tenant;
  std::string contact;
  std::uint64_t seq = 0;
};
[[nodiscard]] std::string encode(const message_ref& r);
[[nodiscard]] std::optional<message_ref> decode_message_ref(std::string_view bytes);

// ---- outbound ---------------------------------------------------------------------------

/// outbox: tenant, contact, seq -> delivery_job (sealed). Present from acceptance until the
/// message reaches a final send result (accepted by the provider, or failed).
[[nodiscard]] std::string outbox_key(std::string_view tenant, std::string_view contact, std::uint64_t seq);
[[nodiscard]] std::string outbox_prefix(std::string_view tenant);

/// What the delivery actor needs to send one accepted message, also after a restart.
struct delivery_job {
  std::string tenant;
  std::string channel_id;
  std::string contact;
  std::uint64_t seq = 0;
  bool bulk = false;               ///< priority "bulk"; conversational otherwise
  std::int64_t accepted_at_ms = 0;
  std::int64_t not_before_ms = 0;  ///< send_at; 0 = at once
  std::int64_t expires_at_ms = 0;  ///< accepted_at + valid_for_seconds; 0 = never
  outbound_payload payload;
};
[[nodiscard]] std::string encode(const delivery_job& j);
[[nodiscard]] std::optional<delivery_job> decode_delivery_job(std::string_view bytes);

/// dedup: "idem", tenant, idempotency key -> idempotency_record. Kept for the dedup window.
[[nodiscard]] std::string idempotency_key(std::string_view tenant, std::string_view key);
[[nodiscard]] std::string idempotency_prefix(std::string_view tenant);

/// The message an idempotency key created and a digest of the request that created it.
struct idempotency_record {
  message_ref ref;
  std::string request_digest;  ///< hex SHA-256 of the request body
};
[[nodiscard]] std::string encode(const idempotency_record& r);
[[nodiscard]] std::optional<idempotency_record> decode_idempotency_record(std::string_view bytes);

/// meta: the kind byte, then the tenant: a tenant's record of that kind (tenant, purge
/// record) or the prefix of its records of that kind (channels, usage, cursors).
[[nodiscard]] std::string tenant_meta_key(meta_kind kind, std::string_view tenant);
/// meta: usage, tenant, period ("YYYY-MM" or "YYYY-MM-DD", UTC), counter name -> decimal count.
[[nodiscard]] std::string usage_key(std::string_view tenant, std::string_view period, std::string_view counter);
/// "YYYY-MM" of a UTC time.
[[nodiscard]] std::string utc_month(std::int64_t ms);

}  // namespace parley::storage
