#pragma once
/// Realistic provider webhook bodies (shapes from docs/PROTOCOLS.md) and the headers that
/// authenticate them, for end-to-end tests against the real parleyd. Pure functions;
/// thread-safe. Bodies are built with Boost.JSON, so any text is escaped correctly.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::testing {

/// A ready-to-send webhook: POST `path` with `body` and `headers` on the public listener.
struct webhook {
  std::string path;
  std::string body;
  std::vector<std::string> headers;
};

// ---- channel configurations (admin POST bodies) ----------------------------------------

/// WhatsApp / Messenger / Instagram channel: `account_id` is the phone_number_id or page id.
struct meta_channel {
  std::string type = "whatsapp";  ///< whatsapp | messenger | instagram
  std::string account_id = "106540352242922";
  std::string app_secret = "e2e-app-secret-7f3a9c";
  std::string access_token = "e2e-access-token-EAAG1234";
  std::string verify_token = "e2e-verify-token-42";
  [[nodiscard]] std::string to_json() const;
  /// "whatsapp" / "messenger" / "instagram": the webhook path segment.
  [[nodiscard]] const std::string& segment() const { return type; }
};

struct telegram_channel {
  std::string bot_token = "123456789:AAE2eBotTokenSecretValue";
  std::string secret_token = "e2e_secret-token_Telegram";
  [[nodiscard]] std::string to_json() const;
};

/// Postmark (channel type "email").
struct postmark_channel {
  std::string from_address = "support@acme.example";
  std::string server_token = "e2e-postmark-server-token-9d1e";
  std::string inbound_username = "postmark-hook";
  std::string inbound_password = "e2e-inbound-p@ss:word";
  [[nodiscard]] std::string to_json() const;
};

// ---- WhatsApp --------------------------------------------------------------------------

struct wa_message {
  std::string wamid;
  std::string from;  ///< wa_id digits, e.g. "15550100001"
  std::string text;
  std::int64_t timestamp_s = 0;
  std::string profile_name = "Customer";
};
/// One "messages" change carrying `messages` (and their contacts) for `phone_number_id`.
std::string whatsapp_messages(const std::string& phone_number_id, const std::vector<wa_message>& messages);
/// One text message.
std::string whatsapp_text(const std::string& phone_number_id, const wa_message& message);
/// A status for an outbound message `wamid` (sent/delivered/read/failed).
std::string whatsapp_status(const std::string& phone_number_id, const std::string& wamid, const std::string& status,
                            const std::string& recipient, std::int64_t timestamp_s);

// ---- Messenger / Instagram -------------------------------------------------------------

/// A customer's text. `object` is "page" (Messenger) or "instagram".
std::string meta_messaging_text(const std::string& object, const std::string& page_id, const std::string& sender,
                                const std::string& mid, const std::string& text, std::int64_t timestamp_ms);
/// An echo of a message the page sent to `customer` (e.g. from the Page inbox).
std::string messenger_echo(const std::string& page_id, const std::string& customer, const std::string& mid,
                           const std::string& text, std::int64_t timestamp_ms);
/// Delivery watermark from `customer`: everything sent up to `watermark_ms` delivered.
std::string messenger_delivery(const std::string& page_id, const std::string& customer, std::int64_t watermark_ms,
                               const std::vector<std::string>& mids = {});
/// Read watermark from `customer`.
std::string messenger_read(const std::string& page_id, const std::string& customer, std::int64_t watermark_ms);

// ---- Telegram --------------------------------------------------------------------------

std::string telegram_text(std::int64_t update_id, std::int64_t user_id, const std::string& first_name,
                          const std::string& text, std::int64_t date_s);
/// The user shares a contact card; `own` makes it their own (contact.user_id == from.id).
std::string telegram_contact(std::int64_t update_id, std::int64_t user_id, const std::string& first_name,
                             const std::string& phone_number, std::int64_t date_s, bool own = true);

// ---- Postmark --------------------------------------------------------------------------

struct postmark_email {
  std::string message_id;  ///< Postmark's MessageID (dedup key)
  std::string from_email = "Jane.Doe@Example.com";
  std::string from_name = "Jane Doe";
  std::string to = "support@acme.example";
  std::string subject = "Order question";
  std::string text = "Hello, where is my order?";
  std::int64_t date_s = 0;
};
std::string postmark_inbound(const postmark_email& email);
std::string postmark_delivery(const std::string& message_id, const std::string& recipient, std::int64_t at_s);
std::string postmark_bounce(const std::string& message_id, const std::string& email, std::int64_t at_s);

// ---- authentication --------------------------------------------------------------------

/// "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, body)>".
std::string meta_signature_header(const std::string& app_secret, const std::string& body);
std::string telegram_secret_header(const std::string& secret_token);
/// "Authorization: Basic <base64(user:password)>".
std::string basic_auth_header(const std::string& user, const std::string& password);

/// Signed webhooks for a channel: path plus the provider's auth headers.
webhook signed_meta(const meta_channel& ch, const std::string& channel_id, std::string body);
webhook signed_telegram(const telegram_channel& ch, const std::string& channel_id, std::string body);
/// `events`: the delivery/bounce route (…/events) instead of inbound.
webhook signed_postmark(const postmark_channel& ch, const std::string& channel_id, std::string body, bool events = false);

// ---- formatting ------------------------------------------------------------------------

std::string base64(const std::string& bytes);
/// "Sun, 22 Nov 2026 10:00:00 +0000".
std::string rfc2822(std::int64_t unix_s);
/// "2026-11-22T10:00:00Z".
std::string rfc3339(std::int64_t unix_s);

}  // namespace parley::testing
