// WhatsApp Cloud API sends: `POST {base}/{phone_number_id}/messages` with a Bearer token;
// the answer's `messages[0].id` is the wamid that later statuses carry.
#include <simdjson.h>

#include "providers/common/json_access.hpp"
#include "providers/common/send_util.hpp"

namespace parley::engine::providers::detail {
namespace {

/// Writes the template `components` (already JSON) re-serialized, so what goes out is
/// valid JSON whatever the caller stored. invalid_argument unless it is an array.
std::optional<error> write_components(json_writer& w, std::string_view components_json) {
  // Template sends are rare next to parsing webhooks: a local parser per call is fine.
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(components_json);
  element components;
  if (parser.parse(padded).get(components) != simdjson::SUCCESS || !components.is_array()) {
    return make_error(errc::invalid_argument, "template components must be a JSON array");
  }
  w.key("components");
  write_value(w, components);
  return std::nullopt;
}

}  // namespace

result<http_call> build_whatsapp_send(const send_credentials& ch, std::string_view base, const outbound_payload& p) {
  if (auto e = require(ch.account_id, "phone_number_id")) return *std::move(e);
  if (auto e = require(ch.access_token, "access_token")) return *std::move(e);

  json_writer w;
  w.begin_object().field("messaging_product", "whatsapp").field("recipient_type", "individual").field("to", p.to);
  switch (p.kind) {
    case message_kind::text:
      w.field("type", "text").key("text").begin_object().field("body", p.text);
      w.key("preview_url").boolean(false).end_object();
      break;
    case message_kind::template_message:
      if (auto e = require(p.template_name, "template name")) return *std::move(e);
      if (auto e = require(p.template_language, "template language")) return *std::move(e);
      w.field("type", "template").key("template").begin_object().field("name", p.template_name);
      w.key("language").begin_object().field("code", p.template_language).end_object();
      if (!p.template_components_json.empty()) {
        if (auto e = write_components(w, p.template_components_json)) return *std::move(e);
      }
      w.end_object();
      break;
    case message_kind::image:
    case message_kind::document: {
      if (auto e = require(p.media_url, "media url")) return *std::move(e);
      const std::string_view type = p.kind == message_kind::image ? "image" : "document";
      w.field("type", type).key(type).begin_object().field("link", p.media_url);
      if (!p.text.empty()) w.field("caption", p.text);
      if (p.kind == message_kind::document && !p.filename.empty()) w.field("filename", p.filename);
      w.end_object();
      break;
    }
    default:
      return make_error(errc::invalid_argument, "message type cannot be sent on WhatsApp");
  }
  if (!p.reply_to_provider_id.empty()) {
    w.key("context").begin_object().field("message_id", p.reply_to_provider_id).end_object();
  }
  w.end_object();

  http_call call;
  call.url = join_url(base, path_segment(ch.account_id) + "/messages");
  call.headers = {{"Authorization", "Bearer " + ch.access_token}, {"Content-Type", "application/json"}};
  call.body = std::move(w).take();
  return call;
}

send_outcome interpret_whatsapp_send(unsigned status, std::string_view body,
                                     std::optional<std::string_view> retry_after) {
  if (status >= 200 && status <= 299) {
    if (auto root = parse_body(body); root.ok()) {
      if (const auto messages = get_array(*root, "messages")) {
        for (element m : *messages) {
          object o;
          if (m.get_object().get(o) != simdjson::SUCCESS) break;
          if (auto id = get_nonempty_string(o, "id")) return accepted(std::string(*id));
          break;
        }
      }
    }
  }
  provider_error e = graph_error(body);
  // Outside the 24-hour window: the caller's own code, so the API can report it as such.
  if (e.code == "131047") e.code = "window_closed";
  return settle(status, std::move(e), retry_after);
}

}  // namespace parley::engine::providers::detail
