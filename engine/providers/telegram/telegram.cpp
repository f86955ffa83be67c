// Telegram Bot API webhook updates → normalized_webhook, and the secret-token check.
// See README.md for the field mapping.
#include <array>

#include "providers/common/crypto.hpp"
#include "providers/common/json_access.hpp"
#include "providers/common/normalize_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {

bool verify_telegram_token(std::string_view secret_token, std::optional<std::string_view> header) noexcept {
  // An unconfigured token must never authenticate anything.
  if (secret_token.empty() || !header) return false;
  return detail::constant_time_equal(*header, secret_token);
}

namespace {

using namespace detail;

/// Members of a Telegram message that are metadata, not its content kind.
constexpr std::array<std::string_view, 28> metadata_keys = {
    "message_id", "message_thread_id", "from", "sender_chat", "chat", "date", "edit_date",
    "reply_to_message", "external_reply", "quote", "reply_to_story", "via_bot", "author_signature",
    "media_group_id", "has_protected_content", "is_topic_message", "is_automatic_forward",
    "forward_origin", "forward_from", "forward_from_chat", "forward_from_message_id",
    "forward_signature", "forward_sender_name", "forward_date", "entities", "caption_entities",
    "reply_markup", "link_preview_options"};

/// The first member naming a content kind this code does not model ("poll", "dice", ...).
std::string_view unknown_kind_name(object msg) {
  for (auto field : msg) {
    bool metadata = field.key == "caption" || field.key.starts_with("has_") || field.key.starts_with("is_");
    for (auto k : metadata_keys) metadata = metadata || field.key == k;
    if (!metadata) return field.key;
  }
  return "unknown";
}

std::string display_name_of(object user) {
  std::string name(get_string(user, "first_name").value_or(""));
  if (auto last = get_nonempty_string(user, "last_name")) {
    if (!name.empty()) name.push_back(' ');
    name.append(*last);
  }
  return name;
}

void write_chat(object chat, json_writer& w) {
  w.key("chat").begin_object();
  write_number_field_if(w, chat, "id");
  w.field_if("type", get_string(chat, "type")).end_object();
}

void write_media(object media, std::optional<std::string_view> caption, json_writer& w) {
  w.key("media").begin_object()
      .field_if("file_id", get_string(media, "file_id"))
      .field_if("mime_type", get_string(media, "mime_type"))
      .field_if("file_name", get_string(media, "file_name"))
      .field_if("emoji", get_string(media, "emoji"))
      .field_if("caption", caption)
      .end_object();
}

/// The largest photo size (Telegram lists them smallest first).
std::optional<object> largest_photo(array sizes) {
  std::optional<object> last;
  for (element e : sizes) {
    object o;
    if (e.get_object().get(o) == simdjson::SUCCESS) last = o;
  }
  return last;
}

/// Sets kind, text and phone from the message content and writes its details members.
/// `from_id` is 0 when the message has no sender (Telegram user ids are positive).
void write_content(object msg, std::int64_t from_id, inbound_message& m, json_writer& w) {
  const auto caption = get_string(msg, "caption");
  auto media = [&](message_kind kind, object o) {
    m.kind = kind;
    if (caption) m.text = std::string(*caption);
    write_media(o, caption, w);
  };
  if (auto text = get_string(msg, "text")) {
    m.kind = message_kind::text;
    m.text = std::string(*text);
  } else if (auto photos = get_array(msg, "photo"); photos && largest_photo(*photos)) {
    media(message_kind::image, *largest_photo(*photos));
  } else if (auto doc = get_object(msg, "document")) {
    media(message_kind::document, *doc);
  } else if (auto voice = get_object(msg, "voice")) {
    media(message_kind::audio, *voice);
  } else if (auto audio = get_object(msg, "audio")) {
    media(message_kind::audio, *audio);
  } else if (auto video = get_object(msg, "video")) {
    media(message_kind::video, *video);
  } else if (auto sticker = get_object(msg, "sticker")) {
    media(message_kind::sticker, *sticker);
  } else if (auto loc = get_object(msg, "location")) {
    m.kind = message_kind::location;
    w.key("location").begin_object();
    write_number_field_if(w, *loc, "latitude");
    write_number_field_if(w, *loc, "longitude");
    w.end_object();
  } else if (auto contact = get_object(msg, "contact")) {
    m.kind = message_kind::contacts;
    const auto phone = get_string(*contact, "phone_number");
    const auto user_id = get_int(*contact, "user_id");
    // Only a contact card of the sender themself tells us the sender's phone number.
    if (phone && from_id != 0 && user_id.value_or(0) == from_id) m.phone_e164 = normalize_phone(*phone);
    w.key("contact").begin_object().field_if("phone_number", phone)
        .field_if("first_name", get_string(*contact, "first_name"))
        .field_if("last_name", get_string(*contact, "last_name"));
    write_number_field_if(w, *contact, "user_id");
    w.end_object();
  } else {
    m.kind = message_kind::unsupported;
    w.key("unsupported").begin_object().field("type", unknown_kind_name(msg)).end_object();
  }
}

status parse_message(object msg, bool edited, normalized_webhook& out) {
  const auto chat = get_object(msg, "chat");
  const auto chat_id = chat ? get_int(*chat, "id") : std::nullopt;
  if (!chat_id) return shape_error("message.chat.id must be an integer");
  const auto from = get_object(msg, "from");
  const std::int64_t from_id = from ? get_int(*from, "id").value_or(0) : 0;

  inbound_message& m = out.messages.back();
  m.external_id = std::to_string(from_id != 0 ? from_id : *chat_id);
  if (from) m.display_name = display_name_of(*from);
  m.timestamp_ms = seconds_to_ms(get_int(msg, "date").value_or(0));
  m.edited = edited;
  if (auto reply = get_object(msg, "reply_to_message")) {
    if (auto id = get_int(*reply, "message_id")) m.reply_to = std::to_string(*id);
  }
  json_writer w;
  w.begin_object();
  write_chat(*chat, w);
  write_number_field_if(w, msg, "message_id");
  write_content(msg, from_id, m, w);
  w.end_object();
  m.details_json = std::move(w).take();
  return {};
}

status parse_callback_query(object query, normalized_webhook& out) {
  const auto id = get_string(query, "id");
  if (!id) return shape_error("callback_query.id must be a string");
  const auto from = get_object(query, "from");
  const auto from_id = from ? get_int(*from, "id") : std::nullopt;
  if (!from_id) return shape_error("callback_query.from.id must be an integer");

  inbound_message& m = out.messages.back();
  m.kind = message_kind::interactive;
  m.external_id = std::to_string(*from_id);
  m.display_name = display_name_of(*from);
  const auto data = get_string(query, "data");
  if (data) m.text = std::string(*data);
  json_writer w;
  w.begin_object();
  // The message carrying the inline keyboard: its date is the best provider time we
  // have (0 without it), and its id is what the button press answers.
  if (auto msg = get_object(query, "message")) {
    m.timestamp_ms = seconds_to_ms(get_int(*msg, "date").value_or(0));
    if (auto message_id = get_int(*msg, "message_id")) m.reply_to = std::to_string(*message_id);
    if (auto chat = get_object(*msg, "chat")) write_chat(*chat, w);
  }
  w.key("interactive").begin_object().field("type", "callback_query").field("id", *id).field_if("data", data);
  w.end_object().end_object();
  m.details_json = std::move(w).take();
  return {};
}

}  // namespace

result<normalized_webhook> normalize_telegram(std::string_view body) {
  auto root = parse_body(body);
  if (!root) return std::move(root).err();
  const auto update_id = get_int(*root, "update_id");
  if (!update_id) return shape_error("update_id must be an integer");

  normalized_webhook out;
  const auto message = get_object(*root, "message");
  const auto edited = message ? std::nullopt : get_object(*root, "edited_message");
  const auto callback = message || edited ? std::nullopt : get_object(*root, "callback_query");
  if (!message && !edited && !callback) {  // channel_post, poll, my_chat_member, ...
    out.ignored = 1;
    return out;
  }
  inbound_message& m = out.messages.emplace_back();
  m.provider_message_id = std::to_string(*update_id);
  status s = callback ? parse_callback_query(*callback, out) : parse_message(message ? *message : *edited, !message, out);
  if (!s) return std::move(s).err();
  return out;
}

}  // namespace parley::engine::providers
