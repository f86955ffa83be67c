// The provider-neutral half of sending: dispatch by channel type, the kinds each type
// can send, and the helpers every *_send.cpp shares (URLs, Retry-After, answer rules,
// Graph error bodies).
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <limits>

#include "providers/common/json_access.hpp"
#include "providers/common/send_util.hpp"
#include "providers/common/time_parse.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {

std::string_view default_api_base(channel_type type) noexcept {
  switch (type) {
    case channel_type::whatsapp:
    case channel_type::messenger:
    case channel_type::instagram:
      return "https://graph.facebook.com/v21.0";
    case channel_type::telegram:
      return "https://api.telegram.org";
    case channel_type::email:
      return "https://api.postmarkapp.com";
  }
  return {};
}

bool kind_sendable(channel_type type, message_kind kind) noexcept {
  switch (type) {
    case channel_type::whatsapp:
      return kind == message_kind::text || kind == message_kind::template_message || kind == message_kind::image ||
             kind == message_kind::document;
    case channel_type::messenger:
    case channel_type::instagram:
    case channel_type::telegram:
      return kind == message_kind::text || kind == message_kind::image || kind == message_kind::document;
    case channel_type::email:
      return kind == message_kind::email;
  }
  return false;
}

result<http_call> build_send(const send_credentials& ch, std::string_view api_base, const outbound_payload& p) {
  if (!kind_sendable(ch.type, p.kind)) {
    return make_error(errc::invalid_argument, "message type " + std::string(to_string(p.kind)) +
                                                  " cannot be sent on a " + std::string(to_string(ch.type)) +
                                                  " channel");
  }
  if (auto e = detail::require(api_base, "api_base")) return *std::move(e);
  if (auto e = detail::require(p.to, "recipient (to)")) return *std::move(e);
  switch (ch.type) {
    case channel_type::whatsapp:
      return detail::build_whatsapp_send(ch, api_base, p);
    case channel_type::messenger:
    case channel_type::instagram:
      return detail::build_messenger_send(ch, api_base, p);
    case channel_type::telegram:
      return detail::build_telegram_send(ch, api_base, p);
    case channel_type::email:
      return detail::build_postmark_send(ch, api_base, p);
  }
  return make_error(errc::invalid_argument, "unknown channel type");
}

send_outcome interpret_send(channel_type type, unsigned http_status, std::string_view body,
                            std::optional<std::string_view> retry_after_header) {
  if (http_status == 0) {
    // No answer: `body` is the client's error text (it never holds the request).
    detail::provider_error e;
    e.message = std::string(body);
    return detail::settle(0, std::move(e), retry_after_header);
  }
  switch (type) {
    case channel_type::whatsapp:
      return detail::interpret_whatsapp_send(http_status, body, retry_after_header);
    case channel_type::messenger:
    case channel_type::instagram:
      return detail::interpret_messenger_send(http_status, body, retry_after_header);
    case channel_type::telegram:
      return detail::interpret_telegram_send(http_status, body, retry_after_header);
    case channel_type::email:
      return detail::interpret_postmark_send(http_status, body, retry_after_header);
  }
  return detail::settle(http_status, {}, retry_after_header);
}

namespace detail {

std::string join_url(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url;
  url.reserve(base.size() + 1 + path.size());
  url.append(base).push_back('/');
  url.append(path);
  return url;
}

std::string path_segment(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == ':';
    if (plain) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0xF]);
    }
  }
  return out;
}

std::optional<error> require(std::string_view value, const char* what) {
  if (!value.empty()) return std::nullopt;
  return make_error(errc::invalid_argument, std::string(what) + " is empty");
}

bool is_integer_text(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty() || s.size() > 18) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> parse_retry_after_ms(std::string_view value, std::int64_t now_ms) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // A delay too large to represent is as good as "much later": saturate.
    constexpr std::int64_t k_max_seconds = std::numeric_limits<std::int64_t>::max() / 1000;
    if (ec == std::errc::result_out_of_range || seconds > k_max_seconds) return k_max_seconds * 1000;
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return seconds * 1000;
  }
  // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a subset of RFC 2822.
  const auto at = parse_rfc2822_ms(value);
  if (!at) return std::nullopt;
  return *at > now_ms ? *at - now_ms : 0;
}

std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut));
}

send_outcome accepted(std::string provider_message_id) {
  send_outcome o;
  o.result = send_outcome::kind::accepted;
  o.provider_message_id = std::move(provider_message_id);
  return o;
}

send_outcome settle(unsigned http_status, provider_error e, std::optional<std::string_view> retry_after_header) {
  send_outcome o;
  o.throttled = e.throttled || http_status == 429;
  const bool transient = e.transient || o.throttled || http_status == 0 || http_status == 408 ||
                         (http_status >= 500 && http_status <= 599);
  o.result = transient ? send_outcome::kind::retry : send_outcome::kind::failed;
  if (!e.code.empty()) {
    o.error_code = std::move(e.code);
  } else if (http_status == 0) {
    o.error_code = "transport";
  } else if (http_status == 401 || http_status == 403) {
    o.error_code = "unauthorized";
  } else {
    o.error_code = std::to_string(http_status);
  }
  if (!e.message.empty()) {
    o.error_message = truncate_utf8(e.message);
  } else if (http_status == 0) {
    o.error_message = "no answer from the provider";
  } else if (http_status >= 200 && http_status <= 299) {
    // The provider may have sent it; failing (not retrying) avoids a duplicate.
    o.error_message = "provider answered HTTP " + std::to_string(http_status) + " without a message id";
  } else {
    o.error_message = "provider answered HTTP " + std::to_string(http_status);
  }
  if (transient) {
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::optional<std::int64_t> header_ms;
    if (retry_after_header) header_ms = parse_retry_after_ms(*retry_after_header, now_ms);
    o.retry_after_ms = header_ms.value_or(std::max<std::int64_t>(e.retry_after_ms, 0));
  }
  return o;
}

provider_error graph_error(std::string_view body) {
  static constexpr std::array<std::int64_t, 8> k_throttling = {4, 17, 32, 613, 80007, 130429, 131048, 131056};
  static constexpr std::array<std::int64_t, 3> k_temporary = {1, 2, 131016};
  provider_error e;
  auto root = parse_body(body);
  if (!root.ok()) return e;
  const auto err = get_object(*root, "error");
  if (!err) return e;
  if (auto code = get_id_text(*err, "code")) e.code = std::move(*code);
  e.message = std::string(get_string(*err, "message").value_or(""));
  if (const auto data = get_object(*err, "error_data")) {
    if (const auto details = get_nonempty_string(*data, "details")) {
      if (!e.message.empty()) e.message.append(": ");
      e.message.append(*details);
    }
  }
  if (const auto code = get_int(*err, "code")) {
    e.throttled = std::find(k_throttling.begin(), k_throttling.end(), *code) != k_throttling.end();
    e.transient = std::find(k_temporary.begin(), k_temporary.end(), *code) != k_temporary.end();
  }
  e.transient = e.transient || get_true(*err, "is_transient");
  return e;
}

}  // namespace detail
}  // namespace parley::engine::providers
