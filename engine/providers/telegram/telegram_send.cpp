// Telegram Bot API sends: `POST {base}/bot<token>/sendMessage|sendPhoto|sendDocument`;
// the answer is `{ok:true, result:{message_id}}` or `{ok:false, error_code, description,
// parameters?:{retry_after}}`.
#include <charconv>

#include "providers/common/json_access.hpp"
#include "providers/common/send_util.hpp"

namespace parley::engine::providers::detail {
namespace {

/// Chat ids and message ids are integers; a numeric id goes out as a JSON number (what
/// the Bot API documents), anything else (e.g. "@channelname") as a string.
void write_id(json_writer& w, std::string_view key, std::string_view id) {
  w.key(key);
  std::int64_t n = 0;
  // Only canonical integers become numbers ("007" or "-0" would not round-trip).
  if (is_integer_text(id) && std::from_chars(id.data(), id.data() + id.size(), n).ec == std::errc{} &&
      std::to_string(n) == id) {
    w.number(n);
  } else {
    w.string(id);
  }
}

}  // namespace

result<http_call> build_telegram_send(const send_credentials& ch, std::string_view base, const outbound_payload& p) {
  if (auto e = require(ch.bot_token, "bot_token")) return *std::move(e);

  json_writer w;
  w.begin_object();
  write_id(w, "chat_id", p.to);
  std::string_view method;
  switch (p.kind) {
    case message_kind::text:
      method = "sendMessage";
      w.field("text", p.text);
      break;
    case message_kind::image:
    case message_kind::document:
      if (auto e = require(p.media_url, "media url")) return *std::move(e);
      method = p.kind == message_kind::image ? "sendPhoto" : "sendDocument";
      w.field(p.kind == message_kind::image ? "photo" : "document", p.media_url);
      if (!p.text.empty()) w.field("caption", p.text);
      break;
    default:
      return make_error(errc::invalid_argument, "message type cannot be sent on Telegram");
  }
  // Only a Telegram message id (an integer) can be replied to; anything else is ignored.
  if (!p.reply_to_provider_id.empty() && is_integer_text(p.reply_to_provider_id)) {
    write_id(w, "reply_to_message_id", p.reply_to_provider_id);
  }
  w.end_object();

  http_call call;
  call.url = join_url(base, "bot" + path_segment(ch.bot_token) + "/" + std::string(method));
  call.headers = {{"Content-Type", "application/json"}};
  call.body = std::move(w).take();
  return call;
}

send_outcome interpret_telegram_send(unsigned status, std::string_view body,
                                     std::optional<std::string_view> retry_after) {
  provider_error e;
  if (auto root = parse_body(body); root.ok()) {
    if (status >= 200 && status <= 299 && get_true(*root, "ok")) {
      if (const auto res = get_object(*root, "result")) {
        if (auto id = get_id_text(*res, "message_id"); id && !id->empty()) return accepted(std::move(*id));
      }
    }
    if (auto code = get_id_text(*root, "error_code")) e.code = std::move(*code);
    e.message = std::string(get_string(*root, "description").value_or(""));
    e.throttled = get_int(*root, "error_code") == 429;
    if (const auto params = get_object(*root, "parameters")) {
      if (const auto seconds = get_int(*params, "retry_after"); seconds && *seconds > 0) {
        e.retry_after_ms = seconds_to_ms(*seconds);
        e.throttled = true;
      }
    }
  }
  return settle(status, std::move(e), retry_after);
}

}  // namespace parley::engine::providers::detail
