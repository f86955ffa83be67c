// Messenger and Instagram Send API: `POST {base}/{page_id}/messages` with the page
// access token as a Bearer token (Graph accepts it in the header, which keeps it out of
// URLs and logs); the answer is `{recipient_id, message_id}`.
#include "providers/common/json_access.hpp"
#include "providers/common/send_util.hpp"

namespace parley::engine::providers::detail {

result<http_call> build_messenger_send(const send_credentials& ch, std::string_view base, const outbound_payload& p) {
  if (auto e = require(ch.account_id, "page id")) return *std::move(e);
  if (auto e = require(ch.access_token, "access_token")) return *std::move(e);

  json_writer w;
  w.begin_object();
  w.key("recipient").begin_object().field("id", p.to).end_object();
  w.field("messaging_type", p.messaging_type.empty() ? std::string_view("RESPONSE") : p.messaging_type);
  if (!p.tag.empty()) w.field("tag", p.tag);
  w.key("message").begin_object();
  switch (p.kind) {
    case message_kind::text:
      w.field("text", p.text);
      break;
    case message_kind::image:
    case message_kind::document:
      // The Send API has no caption on attachments: a caption is not sent.
      if (auto e = require(p.media_url, "media url")) return *std::move(e);
      w.key("attachment").begin_object().field("type", p.kind == message_kind::image ? "image" : "file");
      w.key("payload").begin_object().field("url", p.media_url).key("is_reusable").boolean(true).end_object();
      w.end_object();
      break;
    default:
      return make_error(errc::invalid_argument, "message type cannot be sent on Messenger/Instagram");
  }
  w.end_object().end_object();

  http_call call;
  call.url = join_url(base, path_segment(ch.account_id) + "/messages");
  call.headers = {{"Authorization", "Bearer " + ch.access_token}, {"Content-Type", "application/json"}};
  call.body = std::move(w).take();
  return call;
}

send_outcome interpret_messenger_send(unsigned status, std::string_view body,
                                      std::optional<std::string_view> retry_after) {
  if (status >= 200 && status <= 299) {
    if (auto root = parse_body(body); root.ok()) {
      if (auto id = get_nonempty_string(*root, "message_id")) return accepted(std::string(*id));
    }
  }
  return settle(status, graph_error(body), retry_after);
}

}  // namespace parley::engine::providers::detail
