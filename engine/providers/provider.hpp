#pragma once
/// Provider adapters: verification and normalization of inbound webhooks, one folder per
/// provider (whatsapp/, messenger/ for Messenger and Instagram, telegram/, postmark/),
/// shared helpers in common/. Send clients join them with the outbound issue.
///
/// All functions here are pure CPU and thread-safe: the HTTP edge calls them on its I/O
/// threads before anything is handed to an actor. They never log bodies or secrets.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/inbound.hpp"
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

}  // namespace parley::engine::providers
