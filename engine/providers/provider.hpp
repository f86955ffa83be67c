#pragma once
/// Provider adapters: verification and normalization of inbound webhooks, one folder per
/// provider (whatsapp/, messenger/ for Messenger and Instagram, telegram/, postmark/),
/// shared helpers in common/, and the send adapters (build a provider request, interpret
/// its answer) next to them.
///
/// All functions here are pure CPU and thread-safe: the HTTP edge calls them on its I/O
/// threads before anything is handed to an actor. They never log bodies or secrets.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/inbound.hpp"
#include "parley/outbound.hpp"
#include "parley/result.hpp"

namespace parley::engine::providers {

// ---- verification (constant time) ---------------------------------------------------

/// Meta (WhatsApp, Messenger, Instagram): `header` is the X-Hub-Signature-256 value,
/// "sha256=<lowercase hex HMAC-SHA256(app_secret, raw_body)>". False when missing or wrong.
[[nodiscard]] bool verify_meta_signature(std::string_view app_secret, std::string_view raw_body,
                                         std::optional<std::string_view> header) noexcept;

/// Meta's GET handshake. `mode`, `token`, `challenge` are the hub.* query values. The
/// challenge to echo when mode == "subscribe" and the token matches; nullopt otherwise.
[[nodiscard]] std::optional<std::string> meta_challenge(std::optional<std::string_view> mode,
                                                        std::optional<std::string_view> token,
                                                        std::optional<std::string_view> challenge,
                                                        std::string_view verify_token) noexcept;

/// Telegram: X-Telegram-Bot-Api-Secret-Token equals the channel's secret token.
[[nodiscard]] bool verify_telegram_token(std::string_view secret_token,
                                         std::optional<std::string_view> header) noexcept;

/// Postmark: `Authorization: Basic base64(user:password)` matches the channel's inbound
/// credentials.
[[nodiscard]] bool verify_basic_auth(std::string_view username, std::string_view password,
                                     std::optional<std::string_view> authorization_header) noexcept;

/// HMAC-SHA256 as lowercase hex (also used to sign event pushes and by parley-bench).
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// ---- normalization (simdjson) -------------------------------------------------------
// Each returns invalid_argument with a short reason (never quoting the body) when the
// body is not JSON of the provider's shape. A well-formed payload with a kind Parley
// does not model yields an `unsupported` message, never an error. `account_ids` are the
// channel's phone_number_ids / page ids: entries for other accounts are skipped and
// counted in `ignored` (empty list: accept every account).

[[nodiscard]] result<normalized_webhook> normalize_whatsapp(std::string_view body,
                                                            const std::vector<std::string>& account_ids);
/// `type` is messenger ("object": "page") or instagram ("object": "instagram").
[[nodiscard]] result<normalized_webhook> normalize_messenger(std::string_view body, channel_type type,
                                                             const std::vector<std::string>& account_ids);
[[nodiscard]] result<normalized_webhook> normalize_telegram(std::string_view body);
/// Postmark inbound email (one message per body).
[[nodiscard]] result<normalized_webhook> normalize_postmark_inbound(std::string_view body);
/// Postmark delivery / bounce / open events (one status per body).
[[nodiscard]] result<normalized_webhook> normalize_postmark_event(std::string_view body);

// ---- sending ------------------------------------------------------------------------
// Pure CPU and thread-safe like the rest: the delivery actor builds a request with
// `build_send`, hands it to the HTTP client (engine/http/client.hpp) and turns the answer
// into a `send_outcome` with `interpret_send`. Nothing here does I/O or logs.

/// What a channel needs to send (a plain copy of its unsealed credentials; this library
/// does not depend on the actors). Only the members of the channel's type are used:
/// WhatsApp/Messenger/Instagram `account_id` + `access_token`, Telegram `bot_token`,
/// email `server_token` + `from_address`.
struct send_credentials {
  channel_type type = channel_type::whatsapp;
  std::string account_id;    ///< phone_number_id (WhatsApp) or page / IG account id: the channel's first id
  std::string access_token;  ///< Meta: the (page) access token, sent as a Bearer token
  std::string bot_token;     ///< Telegram: the bot token (it goes into the URL path)
  std::string server_token;  ///< Postmark: X-Postmark-Server-Token
  std::string from_address;  ///< email: the From address (may be `Name <addr>`)
};

/// The provider's public API base for a channel type, used when a channel has no
/// api_base of its own: "https://graph.facebook.com/v21.0" (WhatsApp, Messenger,
/// Instagram), "https://api.telegram.org", "https://api.postmarkapp.com".
[[nodiscard]] std::string_view default_api_base(channel_type type) noexcept;

/// Which message kinds a channel type can send (API: 422 unsupported_type otherwise).
/// WhatsApp: text, template, image, document. Messenger/Instagram and Telegram: text,
/// image, document. Email: email.
[[nodiscard]] bool kind_sendable(channel_type type, message_kind kind) noexcept;

/// The provider request for one outbound message on `ch`, against `api_base` (the
/// channel's own api_base when set, else `default_api_base`; a base may carry a path
/// prefix and a trailing slash, and may be http:// for tests). invalid_argument when the
/// kind is not sendable on that channel type (the API checks this earlier too), when a
/// credential the type needs or the recipient is empty, or when template components are
/// not a JSON array. Error messages never contain a credential.
[[nodiscard]] result<http_call> build_send(const send_credentials& ch, std::string_view api_base,
                                           const outbound_payload& p);

/// Interprets the provider's answer to a `build_send` request. `http_status` 0 means the
/// request never got an answer (connect/TLS/timeout; `body` may then carry the client's
/// error text): retry. 2xx with the provider's id → accepted; throttling (HTTP 429 and the
/// providers' rate-limit codes) → retry with `throttled`; other transient answers (5xx,
/// 408, Graph temporary codes) → retry; anything else → failed with the provider's code
/// as text (WhatsApp 131047 → "window_closed"). `retry_after_header` is the Retry-After
/// value (seconds or an HTTP date); a body hint (Telegram `retry_after`) is used when the
/// header is absent. `error_message` is at most 200 bytes from the body, never the request.
[[nodiscard]] send_outcome interpret_send(channel_type type, unsigned http_status, std::string_view body,
                                          std::optional<std::string_view> retry_after_header);

}  // namespace parley::engine::providers
