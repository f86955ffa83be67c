#pragma once
/// The four providers' send APIs as the simulator speaks them (PROTOCOLS.md): request
/// parsing and validation, the answers (success and each provider's own error shape) and
/// the status webhooks a successful send causes. Pure functions over strings: no I/O, no
/// shared state; any thread may call them.
///
/// Endpoints (any query string is ignored except Graph's `access_token`):
/// - WhatsApp Cloud API: `POST [/{version}]/{phone_number_id}/messages`, Bearer token.
/// - Messenger/Instagram: `POST [/{version}]/{page_id|me}/messages`, Bearer token or
///   `?access_token=`. A Graph body with `messaging_product` is WhatsApp, one with
///   `recipient` Messenger/Instagram.
/// - Telegram: `POST /bot<token>/sendMessage|sendPhoto|sendDocument`, JSON body.
/// - Postmark: `POST /email` with `X-Postmark-Server-Token`.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "payloads.hpp"
#include "status_pusher.hpp"

namespace parley::bench::sim {

/// One HTTP answer: status, extra headers, JSON body.
struct answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The parts of an HTTP request the send endpoints look at.
struct request_view {
  std::string_view method;
  std::string_view target;          ///< path and query
  std::string_view authorization;   ///< Authorization header
  std::string_view postmark_token;  ///< X-Postmark-Server-Token header
  std::string_view body;
};

/// A send request after parsing: the sender account, the recipient and what it sends,
/// or (`refusal.status != 0`) the provider's answer refusing it (auth, malformed body,
/// missing field); rules, limits and injected faults do not apply to refused requests.
struct parsed_send {
  provider kind = provider::whatsapp;
  std::string account;       ///< phone_number_id | page id ("me" until resolved) | bot token | server token
  std::string access_token;  ///< Graph token (resolves `me` to a registered page)
  std::string recipient;     ///< WhatsApp `to`, Messenger `recipient.id`, Telegram `chat_id`, Postmark `To`
  std::string type;          ///< text, template, image, …, sender_action, email
  bool graph_guess = false;  ///< WhatsApp vs Messenger was guessed (body unreadable)
  bool expects_statuses = true;
  std::string chat_json;      ///< Telegram: `chat_id` as JSON (number or string)
  std::string text;           ///< Telegram: text or caption to echo
  std::string from, subject;  ///< Postmark
  answer refusal{0, {}, {}};  ///< status 0: not refused
};

/// Parses a request aimed at a provider; nullopt when the path is no send endpoint.
[[nodiscard]] std::optional<parsed_send> parse_send(const request_view& request);

/// How the simulator answers an admitted request.
enum class outcome : std::uint8_t { accepted, refused, rule, throttled, error };

/// The verdict on one request, with everything its answer and its statuses need.
struct decision {
  outcome kind = outcome::accepted;
  int http_status = 200;
  std::int64_t code = 0;     ///< provider error code (rule/throttled/error), or the later failure's code
  std::string message;       ///< provider error message
  std::string details;       ///< WhatsApp error_data.details
  int retry_after = 0;       ///< seconds; > 0 adds Retry-After (and Telegram parameters.retry_after)
  bool fails_later = false;  ///< accepted, then a `failed` status / Bounce (a rule with a 2xx status)
  std::string provider_message_id;
  std::int64_t telegram_message_id = 0;
  std::int64_t at_unix_us = 0;
};

/// Fills code, message and retry hint of a throttle (429) for `p`.
void fill_throttle(provider p, decision& d);
/// Fills code and message of an injected transient error (`d.http_status` 500 or 503).
void fill_transient_error(provider p, decision& d);
/// Fills a rule's missing code/message with the provider's usual ones for its status.
void fill_rule_defaults(provider p, decision& d);

/// The HTTP answer for `send` under verdict `d`.
[[nodiscard]] answer render_answer(const parsed_send& send, const decision& d);

/// Where and how a provider's status webhooks for one account are delivered.
struct status_route {
  provider kind = provider::whatsapp;
  std::string account;  ///< empty for the default route (every account)
  std::string url_text;
  webhook_url url;
  std::string secret;        ///< Meta app secret, or Postmark "user:password"
  std::string access_token;  ///< optional: resolves Graph `me` to this page
};

/// The webhooks an accepted send causes, in the provider's order (none for Telegram or a
/// Messenger sender action), each signed (Meta) or authenticated (Postmark) for `route`.
/// Implemented in sim_statuses.cpp.
[[nodiscard]] std::vector<std::function<webhook_request()>> status_steps(const parsed_send& send, const decision& d,
                                                                         const status_route& route);

/// Current time as unix microseconds.
[[nodiscard]] std::int64_t unix_now_us();
/// "2026-11-22T10:00:00.123456Z" for unix microseconds.
[[nodiscard]] std::string iso8601_utc(std::int64_t unix_us);
/// The digits of `s` ("+1 555-0100" → "15550100"): a WhatsApp wa_id from a `to`.
[[nodiscard]] std::string digits_only(std::string_view s);

}  // namespace parley::bench::sim
