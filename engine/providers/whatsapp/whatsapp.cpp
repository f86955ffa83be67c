// WhatsApp Cloud API webhooks → normalized_webhook. See README.md for the field mapping.
#include "providers/common/json_access.hpp"
#include "providers/common/normalize_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using namespace detail;

constexpr std::string_view media_types[] = {"image", "video", "audio", "document", "sticker"};

message_kind media_kind(std::string_view type) noexcept {
  if (type == "image") return message_kind::image;
  if (type == "video") return message_kind::video;
  if (type == "audio") return message_kind::audio;
  if (type == "document") return message_kind::document;
  return message_kind::sticker;
}

bool is_media(std::string_view type) noexcept {
  for (auto t : media_types) {
    if (t == type) return true;
  }
  return false;
}

/// profile.name of the contacts[] entry whose wa_id is `wa_id`.
std::string_view display_name_for(std::optional<array> contacts, std::string_view wa_id) {
  if (!contacts) return {};
  for (element e : *contacts) {
    object c;
    if (e.get_object().get(c) != simdjson::SUCCESS || get_string(c, "wa_id") != wa_id) continue;
    if (auto profile = get_object(c, "profile")) return get_string(*profile, "name").value_or("");
  }
  return {};
}

void write_media(object msg, std::string_view type, inbound_message& m, json_writer& w) {
  m.kind = media_kind(type);
  w.key("media").begin_object();
  if (auto media = get_object(msg, type)) {
    const auto caption = get_string(*media, "caption");
    if (caption) m.text = std::string(*caption);
    w.field_if("id", get_string(*media, "id"))
        .field_if("mime_type", get_string(*media, "mime_type"))
        .field_if("sha256", get_string(*media, "sha256"))
        .field_if("caption", caption)
        .field_if("filename", get_string(*media, "filename"));
  }
  w.end_object();
}

void write_interactive(object msg, inbound_message& m, json_writer& w) {
  m.kind = message_kind::interactive;
  const auto interactive = get_object(msg, "interactive");
  const auto type = interactive ? get_string(*interactive, "type") : std::nullopt;
  w.key("interactive").begin_object().field_if("type", type);
  if (type && (*type == "button_reply" || *type == "list_reply")) {
    if (auto reply = get_object(*interactive, *type)) {
      const auto title = get_string(*reply, "title");
      if (title) m.text = std::string(*title);
      w.field_if("id", get_string(*reply, "id")).field_if("title", title);
    }
  }
  w.end_object();
}

/// Sets kind and text from `type` and writes the kind-specific details members.
void write_kind(object msg, std::string_view type, inbound_message& m, json_writer& w) {
  if (type == "text") {
    m.kind = message_kind::text;
    if (auto text = get_object(msg, "text")) {
      if (auto body = get_string(*text, "body")) m.text = std::string(*body);
    }
  } else if (is_media(type)) {
    write_media(msg, type, m, w);
  } else if (type == "location") {
    m.kind = message_kind::location;
    w.key("location").begin_object();
    if (auto loc = get_object(msg, "location")) {
      write_number_field_if(w, *loc, "latitude");
      write_number_field_if(w, *loc, "longitude");
      w.field_if("name", get_string(*loc, "name")).field_if("address", get_string(*loc, "address"));
    }
    w.end_object();
  } else if (type == "contacts") {
    m.kind = message_kind::contacts;
    if (auto contacts = get(msg, "contacts")) write_value(w.key("contacts"), *contacts);
  } else if (type == "interactive") {
    write_interactive(msg, m, w);
  } else if (type == "button") {
    m.kind = message_kind::button;
    const auto button = get_object(msg, "button");
    const auto text = button ? get_string(*button, "text") : std::nullopt;
    if (text) m.text = std::string(*text);
    w.key("button").begin_object().field_if("text", text);
    if (button) w.field_if("payload", get_string(*button, "payload"));
    w.end_object();
  } else if (type == "reaction") {
    m.kind = message_kind::reaction;
    w.key("reaction").begin_object();
    if (auto reaction = get_object(msg, "reaction")) {
      w.field_if("message_id", get_string(*reaction, "message_id")).field_if("emoji", get_string(*reaction, "emoji"));
    }
    w.end_object();
  } else {  // "unknown", "order", "system", and types newer than this code
    m.kind = message_kind::unsupported;
    w.key("unsupported").begin_object().field("type", type).end_object();
  }
}

status parse_message(element e, std::string_view account_id, std::optional<array> contacts,
                     normalized_webhook& out) {
  object msg;
  if (e.get_object().get(msg) != simdjson::SUCCESS) return shape_error("messages[] must be objects");
  const auto from = get_nonempty_string(msg, "from");
  const auto id = get_nonempty_string(msg, "id");
  const auto type = get_string(msg, "type");
  if (!from) return shape_error("messages[].from must be a non-empty string");
  if (!id) return shape_error("messages[].id must be a non-empty string");
  if (!type) return shape_error("messages[].type must be a string");

  inbound_message& m = out.messages.emplace_back();
  m.provider_message_id = std::string(*id);
  m.account_id = std::string(account_id);
  m.external_id = std::string(*from);
  m.display_name = std::string(display_name_for(contacts, *from));
  m.phone_e164 = normalize_phone(*from);
  m.timestamp_ms = seconds_to_ms(get_int_or_digits(msg, "timestamp").value_or(0));
  if (auto context = get_object(msg, "context")) m.reply_to = std::string(get_string(*context, "id").value_or(""));

  json_writer w;
  w.begin_object();
  write_kind(msg, *type, m, w);
  // Click-to-WhatsApp ads attach the ad that started the chat (API.md lists "referral").
  if (auto referral = get(msg, "referral")) write_value(w.key("referral"), *referral);
  w.end_object();
  m.details_json = std::move(w).take();
  return {};
}

std::optional<delivery_status> status_from_name(std::string_view s) noexcept {
  if (s == "sent") return delivery_status::sent;
  if (s == "delivered") return delivery_status::delivered;
  if (s == "read") return delivery_status::read;
  if (s == "failed") return delivery_status::failed;
  return std::nullopt;
}

status parse_status(element e, std::string_view account_id, normalized_webhook& out) {
  object st;
  if (e.get_object().get(st) != simdjson::SUCCESS) return shape_error("statuses[] must be objects");
  const auto id = get_nonempty_string(st, "id");
  const auto name = get_string(st, "status");
  if (!id) return shape_error("statuses[].id must be a non-empty string");
  if (!name) return shape_error("statuses[].status must be a string");

  // Any error makes the status a failure, whatever its name says.
  std::optional<object> first_error;
  if (auto errors = get_array(st, "errors"); errors && errors->size() > 0) {
    object err;
    if (errors->at(0).get_object().get(err) == simdjson::SUCCESS) first_error = err;
  }
  auto status = first_error ? std::optional(delivery_status::failed) : status_from_name(*name);
  if (!status) {  // "deleted", "warning", statuses newer than this code
    ++out.ignored;
    return {};
  }
  inbound_status& s = out.statuses.emplace_back();
  s.provider_message_id = std::string(*id);
  s.account_id = std::string(account_id);
  s.recipient_id = std::string(get_string(st, "recipient_id").value_or(""));
  s.status = *status;
  s.timestamp_ms = seconds_to_ms(get_int_or_digits(st, "timestamp").value_or(0));
  if (first_error) {
    s.error_code = get_id_text(*first_error, "code").value_or("");
    auto message = get_nonempty_string(*first_error, "message");
    s.error_message = std::string(message ? *message : get_string(*first_error, "title").value_or(""));
  }
  return {};
}

void parse_system_errors(array errors, normalized_webhook& out) {
  for (element e : errors) {
    object err;
    if (e.get_object().get(err) != simdjson::SUCCESS) continue;
    std::string text = get_id_text(err, "code").value_or("");
    if (auto title = get_nonempty_string(err, "title")) {
      if (!text.empty()) text.push_back(' ');
      text.append(*title);
    }
    out.system_errors.push_back(std::move(text));
  }
}

/// An optional array member: absent is fine, present but not an array is a shape error.
status optional_array(object o, std::string_view key, std::optional<array>& out, const char* reason) {
  auto e = get(o, key);
  if (!e) return {};
  array a;
  if (e->get_array().get(a) != simdjson::SUCCESS) return shape_error(reason);
  out = a;
  return {};
}

status parse_value(object value, const std::vector<std::string>& account_ids, normalized_webhook& out) {
  const auto metadata = get_object(value, "metadata");
  const auto account_id = metadata ? get_string(*metadata, "phone_number_id") : std::nullopt;
  if (!account_id) return shape_error("value.metadata.phone_number_id must be a string");
  if (!account_accepted(account_ids, *account_id)) {
    ++out.ignored;
    return {};
  }
  std::optional<array> contacts, messages, statuses, errors;
  if (auto s = optional_array(value, "contacts", contacts, "contacts must be an array"); !s) return s;
  if (auto s = optional_array(value, "messages", messages, "messages must be an array"); !s) return s;
  if (auto s = optional_array(value, "statuses", statuses, "statuses must be an array"); !s) return s;
  if (auto s = optional_array(value, "errors", errors, "errors must be an array"); !s) return s;
  if (messages) {
    for (element m : *messages) {
      if (auto s = parse_message(m, *account_id, contacts, out); !s) return s;
    }
  }
  if (statuses) {
    for (element st : *statuses) {
      if (auto s = parse_status(st, *account_id, out); !s) return s;
    }
  }
  if (errors) parse_system_errors(*errors, out);
  return {};
}

status parse_entry(element e, const std::vector<std::string>& account_ids, normalized_webhook& out) {
  object entry;
  if (e.get_object().get(entry) != simdjson::SUCCESS) return shape_error("entry[] must be objects");
  const auto changes = get_array(entry, "changes");
  if (!changes) return shape_error("entry[].changes must be an array");
  for (element c : *changes) {
    object change;
    if (c.get_object().get(change) != simdjson::SUCCESS) return shape_error("changes[] must be objects");
    if (get_string(change, "field") != "messages") {  // account_update, templates, ...
      ++out.ignored;
      continue;
    }
    const auto value = get_object(change, "value");
    if (!value) return shape_error("changes[].value must be an object");
    if (auto s = parse_value(*value, account_ids, out); !s) return s;
  }
  return {};
}

}  // namespace

result<normalized_webhook> normalize_whatsapp(std::string_view body, const std::vector<std::string>& account_ids) {
  auto root = parse_body(body);
  if (!root) return std::move(root).err();
  if (get_string(*root, "object") != "whatsapp_business_account") {
    return shape_error("object must be whatsapp_business_account");
  }
  const auto entries = get_array(*root, "entry");
  if (!entries) return shape_error("entry must be an array");
  normalized_webhook out;
  for (element e : *entries) {
    if (auto s = parse_entry(e, account_ids, out); !s) return std::move(s).err();
  }
  return out;
}

}  // namespace parley::engine::providers
