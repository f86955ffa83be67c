#pragma once
/// Pieces every send adapter shares: URL joining, the Retry-After parser, the common
/// answer rules (`settle`), and the per-provider entry points that `send.cpp` dispatches
/// to. Internal to parley_providers; include only from .cpp files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/outbound.hpp"
#include "parley/result.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers::detail {

/// Longest `error_message` kept from a provider's answer (bytes, cut on a UTF-8 boundary).
inline constexpr std::size_t k_max_error_message = 200;

/// `base` without trailing slashes + "/" + `path` (which must not start with '/').
[[nodiscard]] std::string join_url(std::string_view base, std::string_view path);

/// Percent-encodes everything but RFC 3986 unreserved characters and ':' so an id or a
/// token is always exactly one path segment.
[[nodiscard]] std::string path_segment(std::string_view s);

/// invalid_argument "<what> is empty" when `value` is empty (names the field, never a value).
[[nodiscard]] std::optional<error> require(std::string_view value, const char* what);

/// True for an optional '-' followed by 1..18 decimal digits (fits an int64).
[[nodiscard]] bool is_integer_text(std::string_view s) noexcept;

/// Retry-After as milliseconds from `now_ms`: delta-seconds ("120") or an HTTP date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"; a date in the past is 0). nullopt when unparseable.
[[nodiscard]] std::optional<std::int64_t> parse_retry_after_ms(std::string_view value, std::int64_t now_ms) noexcept;

/// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
[[nodiscard]] std::string truncate_utf8(std::string_view s, std::size_t max = k_max_error_message);

/// What a provider's error body said, in one shape.
struct provider_error {
  std::string code;                 ///< the provider's numeric code as text, "" when none
  std::string message;              ///< human text from the body (truncated by settle)
  bool transient = false;           ///< the provider says: try again
  bool throttled = false;           ///< the provider says: too fast (implies transient)
  std::int64_t retry_after_ms = 0;  ///< a delay hint from the body, 0 when none
};

/// An accepted outcome carrying `provider_message_id`.
[[nodiscard]] send_outcome accepted(std::string provider_message_id);

/// The rules every provider shares once a body yielded no id: no answer (status 0), 5xx,
/// 408 and 429 → retry (429 throttled); `e.transient`/`e.throttled` → retry; else failed.
/// The code is `e.code`, else "transport" (status 0), "unauthorized" (401/403) or the
/// status as text. Retry-After (header, else `e.retry_after_ms`) is kept on retries only.
[[nodiscard]] send_outcome settle(unsigned http_status, provider_error e,
                                  std::optional<std::string_view> retry_after_header);

/// Graph API (WhatsApp, Messenger, Instagram) error body `{error:{code, message,
/// is_transient?, error_data?:{details}}}` → provider_error. Throttling codes 4, 17, 32,
/// 613, 80007, 130429, 131048, 131056; temporary 1, 2, 131016 and `is_transient: true`.
[[nodiscard]] provider_error graph_error(std::string_view body);

// Per-provider entry points (whatsapp/, messenger/, telegram/, postmark/ *_send.cpp).
// `build_*` may assume `kind_sendable` and a non-empty recipient were checked.
[[nodiscard]] result<http_call> build_whatsapp_send(const send_credentials& ch, std::string_view base,
                                                    const outbound_payload& p);
[[nodiscard]] send_outcome interpret_whatsapp_send(unsigned status, std::string_view body,
                                                   std::optional<std::string_view> retry_after);
[[nodiscard]] result<http_call> build_messenger_send(const send_credentials& ch, std::string_view base,
                                                     const outbound_payload& p);
[[nodiscard]] send_outcome interpret_messenger_send(unsigned status, std::string_view body,
                                                    std::optional<std::string_view> retry_after);
[[nodiscard]] result<http_call> build_telegram_send(const send_credentials& ch, std::string_view base,
                                                    const outbound_payload& p);
[[nodiscard]] send_outcome interpret_telegram_send(unsigned status, std::string_view body,
                                                   std::optional<std::string_view> retry_after);
[[nodiscard]] result<http_call> build_postmark_send(const send_credentials& ch, std::string_view base,
                                                    const outbound_payload& p);
[[nodiscard]] send_outcome interpret_postmark_send(unsigned status, std::string_view body,
                                                   std::optional<std::string_view> retry_after);

}  // namespace parley::engine::providers::detail
