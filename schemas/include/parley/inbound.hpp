#pragma once
/// The normalized form of what providers send us. Every provider adapter (engine/
/// providers/<name>/) turns a verified webhook body into a `normalized_webhook`; the
/// actors and storage only ever see this form. Plain structs: they travel between
/// threads inside one process and are encoded to stored records by the conversation.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// The kinds of channel Parley speaks.
enum class channel_type : std::uint8_t { whatsapp, messenger, instagram, telegram, email };

[[nodiscard]] std::string_view to_string(channel_type t) noexcept;
/// "whatsapp", "messenger", "instagram", "telegram", "email" (also "postmark" for email).
[[nodiscard]] std::optional<channel_type> parse_channel_type(std::string_view name) noexcept;
/// True for the channels with a 24-hour customer-service window.
[[nodiscard]] bool has_service_window(channel_type t) noexcept;

/// Message kinds of API.md (`type`). `unsupported` keeps a kind Parley does not model.
enum class message_kind : std::uint8_t {
  text, image, video, audio, document, sticker, location, contacts, interactive, button,
  reaction, email, template_message, unsupported,
};
[[nodiscard]] std::string_view to_string(message_kind k) noexcept;

/// Delivery status of a message. Outbound statuses only move forward in this order
/// (failed is reachable from queued and sent only); inbound messages are `received`.
enum class delivery_status : std::uint8_t { queued = 0, sent = 1, delivered = 2, read = 3, failed = 4, received = 5 };
[[nodiscard]] std::string_view to_string(delivery_status s) noexcept;
/// Whether an outbound message in `from` may move to `to` (monotone: read never goes
/// back to delivered; failed only from queued or sent).
[[nodiscard]] bool status_may_advance(delivery_status from, delivery_status to) noexcept;

/// One message a customer sent (or, for an `outbound_echo`, that the business sent
/// outside Parley and the provider echoed back).
struct inbound_message {
  std::string provider_message_id;  ///< dedup key: wamid, mid, Telegram update_id, Postmark MessageID
  std::string account_id;           ///< the business side it came to: phone_number_id, page id, bot, inbox address
  std::string external_id;          ///< the customer exactly as the provider names them (wa_id, PSID, user id, lowercased email)
  std::string display_name;         ///< profile name / From name, when given
  std::string phone_e164;           ///< "+<digits>" when the provider gives a phone number (linking only)
  std::string email;                ///< lowercased address when known (linking only)
  std::int64_t timestamp_ms = 0;    ///< the provider's timestamp of the message (never arrival time)
  message_kind kind = message_kind::unsupported;
  std::optional<std::string> text;  ///< body, caption, button/list title, email text; nullopt otherwise
  /// Kind-specific fields as one compact JSON object, e.g. {"media":{...}},
  /// {"location":{...}}, {"email":{"subject":...,"message_id":...,"in_reply_to":...}}.
  std::string details_json = "{}";
  std::string reply_to;             ///< provider id of the message this replies to, if any
  bool outbound_echo = false;       ///< Messenger/Instagram is_echo: the business's own message
  bool edited = false;              ///< Telegram edited_message
};

/// A provider status about a message the business sent.
struct inbound_status {
  std::string provider_message_id;  ///< the outbound message's provider id (empty for watermarks)
  std::string account_id;
  std::string recipient_id;         ///< the customer (external id)
  delivery_status status = delivery_status::sent;
  std::int64_t timestamp_ms = 0;
  /// Messenger/Instagram watermarks: every message sent to recipient_id at or before
  /// this time has reached `status` (delivered or read). 0 for per-message statuses.
  std::int64_t watermark_ms = 0;
  std::string error_code;           ///< for failed: the provider's code, e.g. "131047"
  std::string error_message;
};

/// Everything one webhook body carried, after verification and normalization.
struct normalized_webhook {
  std::vector<inbound_message> messages;
  std::vector<inbound_status> statuses;
  std::size_t ignored = 0;  ///< entries for accounts not on this channel, and updates Parley ignores
  std::vector<std::string> system_errors;  ///< provider-level errors (WhatsApp errors[]), for logs and counters
};

/// The E.164 form of a phone number written any usual way ("+1 (555) 010-0000",
/// "15550100000", "0049 30 1234"), or empty when it is not a plausible number.
/// Without a country code it cannot be normalized and is rejected.
[[nodiscard]] std::string normalize_phone(std::string_view raw);

}  // namespace parley
