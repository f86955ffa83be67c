#include "parley/inbound.hpp"

namespace parley {

std::string_view to_string(channel_type t) noexcept {
  switch (t) {
    case channel_type::whatsapp: return "whatsapp";
    case channel_type::messenger: return "messenger";
    case channel_type::instagram: return "instagram";
    case channel_type::telegram: return "telegram";
    case channel_type::email: return "email";
  }
  return "unknown";
}

std::optional<channel_type> parse_channel_type(std::string_view name) noexcept {
  if (name == "whatsapp") return channel_type::whatsapp;
  if (name == "messenger") return channel_type::messenger;
  if (name == "instagram") return channel_type::instagram;
  if (name == "telegram") return channel_type::telegram;
  if (name == "email" || name == "postmark") return channel_type::email;
  return std::nullopt;
}

bool has_service_window(channel_type t) noexcept {
  return t == channel_type::whatsapp || t == channel_type::messenger || t == channel_type::instagram;
}

std::string_view to_string(message_kind k) noexcept {
  switch (k) {
    case message_kind::text: return "text";
    case message_kind::image: return "image";
    case message_kind::video: return "video";
    case message_kind::audio: return "audio";
    case message_kind::document: return "document";
    case message_kind::sticker: return "sticker";
    case message_kind::location: return "location";
    case message_kind::contacts: return "contacts";
    case message_kind::interactive: return "interactive";
    case message_kind::button: return "button";
    case message_kind::reaction: return "reaction";
    case message_kind::email: return "email";
    case message_kind::template_message: return "template";
    case message_kind::unsupported: return "unsupported";
  }
  return "unsupported";
}

std::string_view to_string(delivery_status s) noexcept {
  switch (s) {
    case delivery_status::queued: return "queued";
    case delivery_status::sent: return "sent";
    case delivery_status::delivered: return "delivered";
    case delivery_status::read: return "read";
    case delivery_status::failed: return "failed";
    case delivery_status::received: return "received";
  }
  return "unknown";
}

bool status_may_advance(delivery_status from, delivery_status to) noexcept {
  if (from == delivery_status::received || to == delivery_status::received) return false;
  if (to == delivery_status::failed) return from == delivery_status::queued || from == delivery_status::sent;
  if (from == delivery_status::failed) return false;
  return static_cast<int>(to) > static_cast<int>(from);
}

std::string normalize_phone(std::string_view raw) {
  std::string digits;
  bool international = false;
  std::size_t i = 0;
  while (i < raw.size() && raw[i] == ' ') ++i;
  if (i < raw.size() && raw[i] == '+') {
    international = true;
    ++i;
  } else if (raw.substr(i, 2) == "00") {
    international = true;
    i += 2;
  }
  for (; i < raw.size(); ++i) {
    char c = raw[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return {};
    }
  }
  // WhatsApp wa_ids are international numbers without '+': accept bare digit strings
  // of plausible length as already international.
  if (!international && digits.size() < 8) return {};
  if (digits.size() < 7 || digits.size() > 15 || digits.front() == '0') return {};
  return "+" + digits;
}

}  // namespace parley
