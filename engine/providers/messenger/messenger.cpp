// Messenger and Instagram webhooks (Meta's "page"/"instagram" objects) → normalized_webhook.
// See README.md for the field mapping.
#include "providers/common/json_access.hpp"
#include "providers/common/normalize_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using namespace detail;

/// The parts of one messaging[] event every kind needs.
struct event_context {
  std::string_view account_id;
  std::string_view sender_id;
  std::string_view recipient_id;
  std::int64_t timestamp_ms = 0;
};

message_kind attachment_kind(object attachment) {
  const auto type = get_string(attachment, "type").value_or("");
  const auto payload = get_object(attachment, "payload");
  // Messenger sends stickers as images whose payload carries a sticker_id.
  if (payload && get(*payload, "sticker_id")) return message_kind::sticker;
  if (type == "image") return message_kind::image;
  if (type == "video") return message_kind::video;
  if (type == "audio") return message_kind::audio;
  if (type == "file") return message_kind::document;
  if (type == "sticker") return message_kind::sticker;
  if (type == "location") return message_kind::location;
  return message_kind::unsupported;  // fallback, template, share, story_mention, ig_reel, ...
}

/// Writes "attachments":[{type,url}] and returns the kind of the first attachment.
message_kind write_attachments(array attachments, json_writer& w) {
  message_kind kind = message_kind::unsupported;
  bool first = true;
  w.key("attachments").begin_array();
  for (element e : attachments) {
    object a;
    if (e.get_object().get(a) != simdjson::SUCCESS) continue;
    if (first) kind = attachment_kind(a);
    first = false;
    const auto payload = get_object(a, "payload");
    w.begin_object()
        .field_if("type", get_string(a, "type"))
        .field_if("url", payload ? get_string(*payload, "url") : std::nullopt)
        .end_object();
  }
  w.end_array();
  return kind;
}

inbound_message& new_message(const event_context& ctx, normalized_webhook& out) {
  inbound_message& m = out.messages.emplace_back();
  m.account_id = std::string(ctx.account_id);
  m.external_id = std::string(ctx.sender_id);
  m.timestamp_ms = ctx.timestamp_ms;
  return m;
}

status parse_message(object msg, const event_context& ctx, normalized_webhook& out) {
  const auto mid = get_nonempty_string(msg, "mid");
  if (!mid) return shape_error("message.mid must be a non-empty string");
  const bool echo = get_true(msg, "is_echo");
  // An echo is the business's own send: the customer is the recipient, who must be named.
  if (echo && ctx.recipient_id.empty()) return shape_error("an echo needs recipient.id");
  inbound_message& m = new_message(ctx, out);
  m.provider_message_id = std::string(*mid);
  if (echo) {
    m.outbound_echo = true;
    m.external_id = std::string(ctx.recipient_id);
  }
  if (auto reply = get_object(msg, "reply_to")) m.reply_to = std::string(get_string(*reply, "mid").value_or(""));
  const auto text = get_string(msg, "text");
  if (text) m.text = std::string(*text);

  json_writer w;
  w.begin_object();
  const auto attachments = get_array(msg, "attachments");
  if (attachments && attachments->size() > 0) {
    m.kind = write_attachments(*attachments, w);
  } else if (text) {
    m.kind = message_kind::text;
  } else {  // e.g. Instagram is_deleted / is_unsupported
    m.kind = message_kind::unsupported;
    w.key("unsupported").begin_object().field("type", get_true(msg, "is_deleted") ? "deleted" : "message").end_object();
  }
  if (auto quick = get_object(msg, "quick_reply")) {
    m.kind = message_kind::text;
    w.key("quick_reply").begin_object().field_if("payload", get_string(*quick, "payload")).end_object();
  }
  w.end_object();
  m.details_json = std::move(w).take();
  return {};
}

void parse_delivery(object delivery, const event_context& ctx, normalized_webhook& out) {
  auto add = [&](delivery_status st) -> inbound_status& {
    inbound_status& s = out.statuses.emplace_back();
    s.account_id = std::string(ctx.account_id);
    s.recipient_id = std::string(ctx.sender_id);  // the customer who received / read
    s.status = st;
    s.timestamp_ms = ctx.timestamp_ms;
    return s;
  };
  if (auto mids = get_array(delivery, "mids")) {
    for (element e : *mids) {
      std::string_view mid;
      if (e.get_string().get(mid) == simdjson::SUCCESS && !mid.empty()) {
        add(delivery_status::delivered).provider_message_id = mid;
      }
    }
  }
  if (auto watermark = get_int(delivery, "watermark"); watermark && *watermark > 0) {
    add(delivery_status::delivered).watermark_ms = *watermark;
  }
}

void parse_read(object read, const event_context& ctx, normalized_webhook& out) {
  const auto watermark = get_int(read, "watermark");
  if (!watermark || *watermark <= 0) {
    ++out.ignored;
    return;
  }
  inbound_status& s = out.statuses.emplace_back();
  s.account_id = std::string(ctx.account_id);
  s.recipient_id = std::string(ctx.sender_id);
  s.status = delivery_status::read;
  s.timestamp_ms = ctx.timestamp_ms;
  s.watermark_ms = *watermark;
}

status parse_reaction(object reaction, const event_context& ctx, normalized_webhook& out) {
  const auto mid = get_string(reaction, "mid");
  if (!mid) return shape_error("reaction.mid must be a string");
  const auto action = get_string(reaction, "action").value_or("");
  inbound_message& m = new_message(ctx, out);
  m.kind = message_kind::reaction;
  // Reactions have no id of their own: derive a stable dedup key from what identifies one.
  m.provider_message_id = "reaction:";
  m.provider_message_id.append(*mid).append(":").append(action).append(":").append(std::to_string(ctx.timestamp_ms));
  json_writer w;
  w.begin_object().key("reaction").begin_object().field("message_id", *mid).field("action", action);
  w.field_if("emoji", get_string(reaction, "emoji")).end_object().end_object();
  m.details_json = std::move(w).take();
  return {};
}

void parse_postback(object postback, const event_context& ctx, normalized_webhook& out) {
  inbound_message& m = new_message(ctx, out);
  m.kind = message_kind::button;
  if (auto title = get_string(postback, "title")) m.text = std::string(*title);
  m.provider_message_id = "postback:";
  if (auto mid = get_nonempty_string(postback, "mid")) {
    m.provider_message_id.append(*mid);
  } else {
    m.provider_message_id.append(ctx.sender_id).append(":").append(std::to_string(ctx.timestamp_ms));
  }
  json_writer w;
  w.begin_object().key("postback").begin_object().field_if("payload", get_string(postback, "payload"));
  w.end_object().end_object();
  m.details_json = std::move(w).take();
}

status parse_event(element e, std::string_view account_id, normalized_webhook& out) {
  object ev;
  if (e.get_object().get(ev) != simdjson::SUCCESS) return shape_error("messaging[] must be objects");
  const auto sender = get_object(ev, "sender");
  const auto sender_id = sender ? get_nonempty_string(*sender, "id") : std::nullopt;
  if (!sender_id) return shape_error("messaging[].sender.id must be a non-empty string");
  const auto recipient = get_object(ev, "recipient");
  event_context ctx{account_id, *sender_id,
                    recipient ? get_string(*recipient, "id").value_or("") : std::string_view{},
                    get_int(ev, "timestamp").value_or(0)};
  if (auto msg = get_object(ev, "message")) return parse_message(*msg, ctx, out);
  if (auto delivery = get_object(ev, "delivery")) {
    parse_delivery(*delivery, ctx, out);
  } else if (auto read = get_object(ev, "read")) {
    parse_read(*read, ctx, out);
  } else if (auto reaction = get_object(ev, "reaction")) {
    return parse_reaction(*reaction, ctx, out);
  } else if (auto postback = get_object(ev, "postback")) {
    parse_postback(*postback, ctx, out);
  } else {  // referral, optin, account_linking, message_edit, ...
    ++out.ignored;
  }
  return {};
}

status parse_entry(element e, const std::vector<std::string>& account_ids, normalized_webhook& out) {
  object entry;
  if (e.get_object().get(entry) != simdjson::SUCCESS) return shape_error("entry[] must be objects");
  const auto account_id = get_id_text(entry, "id");
  if (!account_id) return shape_error("entry[].id must be a string");
  if (!account_accepted(account_ids, *account_id)) {
    ++out.ignored;
    return {};
  }
  const auto messaging = get(entry, "messaging");
  if (!messaging) {  // "changes" (feed, comments) or "standby": not conversation traffic
    ++out.ignored;
    return {};
  }
  array events;
  if (messaging->get_array().get(events) != simdjson::SUCCESS) return shape_error("entry[].messaging must be an array");
  for (element ev : events) {
    if (auto s = parse_event(ev, *account_id, out); !s) return s;
  }
  return {};
}

}  // namespace

result<normalized_webhook> normalize_messenger(std::string_view body, channel_type type,
                                               const std::vector<std::string>& account_ids) {
  if (type != channel_type::messenger && type != channel_type::instagram) {
    return shape_error("channel type must be messenger or instagram");
  }
  auto root = parse_body(body);
  if (!root) return std::move(root).err();
  const auto object_name = get_string(*root, "object");
  if (type == channel_type::messenger && object_name != "page") return shape_error("object must be page");
  if (type == channel_type::instagram && object_name != "instagram") return shape_error("object must be instagram");
  const auto entries = get_array(*root, "entry");
  if (!entries) return shape_error("entry must be an array");
  normalized_webhook out;
  for (element e : *entries) {
    if (auto s = parse_entry(e, account_ids, out); !s) return std::move(s).err();
  }
  return out;
}

}  // namespace parley::engine::providers
