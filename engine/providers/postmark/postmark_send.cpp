// Postmark email sends: `POST {base}/email` with X-Postmark-Server-Token; the answer is
// `{To, SubmittedAt, MessageID, ErrorCode, Message}` with ErrorCode 0 on success.
#include "providers/common/json_access.hpp"
#include "providers/common/send_util.hpp"

namespace parley::engine::providers::detail {
namespace {

/// An RFC 5322 msg-id is written in angle brackets; add them when the caller stored a
/// bare id.
std::string msg_id(std::string_view id) {
  if (id.front() == '<') return std::string(id);
  std::string out;
  out.reserve(id.size() + 2);
  out.push_back('<');
  out.append(id).push_back('>');
  return out;
}

}  // namespace

result<http_call> build_postmark_send(const send_credentials& ch, std::string_view base, const outbound_payload& p) {
  if (auto e = require(ch.server_token, "server_token")) return *std::move(e);
  if (auto e = require(ch.from_address, "from_address")) return *std::move(e);
  if (p.kind != message_kind::email) return make_error(errc::invalid_argument, "only email can be sent by email");

  json_writer w;
  w.begin_object().field("From", ch.from_address).field("To", p.to).field("Subject", p.email_subject);
  // Postmark needs at least one body part: the text part goes out even when empty if
  // there is no HTML part.
  if (!p.text.empty() || p.email_html.empty()) w.field("TextBody", p.text);
  if (!p.email_html.empty()) w.field("HtmlBody", p.email_html);
  w.field("MessageStream", "outbound");
  if (!p.reply_to_provider_id.empty()) {
    // References as well: most mail clients thread on it rather than on In-Reply-To.
    const std::string id = msg_id(p.reply_to_provider_id);
    w.key("Headers").begin_array();
    w.begin_object().field("Name", "In-Reply-To").field("Value", id).end_object();
    w.begin_object().field("Name", "References").field("Value", id).end_object();
    w.end_array();
  }
  w.end_object();

  http_call call;
  call.url = join_url(base, "email");
  call.headers = {{"X-Postmark-Server-Token", ch.server_token},
                  {"Accept", "application/json"},
                  {"Content-Type", "application/json"}};
  call.body = std::move(w).take();
  return call;
}

send_outcome interpret_postmark_send(unsigned status, std::string_view body,
                                     std::optional<std::string_view> retry_after) {
  provider_error e;
  if (auto root = parse_body(body); root.ok()) {
    const auto code = get_int(*root, "ErrorCode");
    if (status >= 200 && status <= 299 && code.value_or(0) == 0) {
      if (auto id = get_nonempty_string(*root, "MessageID")) return accepted(std::string(*id));
    }
    // ErrorCode 0 on an error status says nothing: the status decides.
    if (code && *code != 0) e.code = std::to_string(*code);
    e.message = std::string(get_string(*root, "Message").value_or(""));
  }
  return settle(status, std::move(e), retry_after);
}

}  // namespace parley::engine::providers::detail
