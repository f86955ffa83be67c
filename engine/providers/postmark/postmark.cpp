// Postmark inbound email and delivery/bounce/open events → normalized_webhook, and the
// HTTP Basic check that authenticates both. See README.md for the field mapping.
#include <array>

#include "providers/common/crypto.hpp"
#include "providers/common/json_access.hpp"
#include "providers/common/normalize_util.hpp"
#include "providers/common/time_parse.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using namespace detail;

/// HtmlBody goes into details only below this size; larger bodies stay out of the record.
constexpr std::size_t max_html_in_details = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

/// The address inside "Name <addr>", or the whole text when there are no brackets.
std::string_view bare_address(std::string_view s) noexcept {
  const auto open = s.rfind('<');
  const auto close = s.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return trim(s.substr(open + 1, close - open - 1));
  }
  return trim(s);
}

/// The RFC 5322 threading headers from Headers[] (names compared case-insensitively).
struct threading_headers {
  std::optional<std::string_view> message_id, in_reply_to, references;
};

threading_headers find_threading_headers(object root) {
  threading_headers h;
  const auto headers = get_array(root, "Headers");
  if (!headers) return h;
  for (element e : *headers) {
    object header;
    if (e.get_object().get(header) != simdjson::SUCCESS) continue;
    const auto name = get_string(header, "Name");
    const auto value = get_string(header, "Value");
    if (!name || !value) continue;
    if (iequals(*name, "Message-ID")) h.message_id = trim(*value);
    if (iequals(*name, "In-Reply-To")) h.in_reply_to = trim(*value);
    if (iequals(*name, "References")) h.references = trim(*value);
  }
  return h;
}

void write_attachments(object root, json_writer& w) {
  const auto attachments = get_array(root, "Attachments");
  if (!attachments || attachments->size() == 0) return;
  w.key("attachments").begin_array();
  for (element e : *attachments) {  // metadata only: Content (base64) never enters details
    object a;
    if (e.get_object().get(a) != simdjson::SUCCESS) continue;
    w.begin_object().field_if("name", get_string(a, "Name")).field_if("content_type", get_string(a, "ContentType"));
    if (auto length = get_int(a, "ContentLength")) w.key("content_length").number(*length);
    w.end_object();
  }
  w.end_array();
}

std::string email_details(object root, const threading_headers& h) {
  json_writer w;
  w.begin_object().key("email").begin_object()
      .field_if("subject", get_nonempty_string(root, "Subject"))
      .field_if("from", get_nonempty_string(root, "From"))
      .field_if("to", get_nonempty_string(root, "To"))
      .field_if("cc", get_nonempty_string(root, "Cc"))
      .field_if("message_id", h.message_id)
      .field_if("in_reply_to", h.in_reply_to)
      .field_if("references", h.references)
      .field_if("mailbox_hash", get_nonempty_string(root, "MailboxHash"));
  write_attachments(root, w);
  if (auto html = get_nonempty_string(root, "HtmlBody"); html && html->size() < max_html_in_details) {
    w.field("html", *html);
  }
  w.end_object().end_object();
  return std::move(w).take();
}

/// FromFull.Email, else the address in From.
std::string_view sender_address(object root) {
  if (auto full = get_object(root, "FromFull")) {
    if (auto email = get_nonempty_string(*full, "Email")) return trim(*email);
  }
  return bare_address(get_string(root, "From").value_or(""));
}

/// OriginalRecipient, else ToFull[0].Email.
std::string_view inbox_address(object root) {
  if (auto original = get_nonempty_string(root, "OriginalRecipient")) return trim(*original);
  if (auto to = get_array(root, "ToFull"); to && to->size() > 0) {
    object first;
    if (to->at(0).get_object().get(first) == simdjson::SUCCESS) return trim(get_string(first, "Email").value_or(""));
  }
  return {};
}

std::optional<std::string> text_body(object root) {
  if (auto text = get_nonempty_string(root, "TextBody")) return std::string(*text);
  if (auto stripped = get_nonempty_string(root, "StrippedTextReply")) return std::string(*stripped);
  if (auto text = get_string(root, "TextBody")) return std::string(*text);  // present but empty
  return std::nullopt;
}

}  // namespace

bool verify_basic_auth(std::string_view username, std::string_view password,
                       std::optional<std::string_view> authorization_header) noexcept {
  // A channel without credentials must never accept "Basic Og==" (":").
  if ((username.empty() && password.empty()) || !authorization_header) return false;
  std::string_view h = *authorization_header;
  constexpr std::string_view scheme = "basic";
  if (h.size() <= scheme.size() || !iequals(h.substr(0, scheme.size()), scheme) || h[scheme.size()] != ' ') return false;
  h = trim(h.substr(scheme.size()));
  std::array<char, 1024> decoded{};
  const auto n = detail::base64_decode(h, decoded.data(), decoded.size());
  if (!n) return false;
  const std::string_view credentials(decoded.data(), *n);
  const auto colon = credentials.find(':');
  if (colon == std::string_view::npos) return false;
  // Evaluate both comparisons so the time does not reveal which part was wrong.
  const bool user_ok = detail::constant_time_equal(credentials.substr(0, colon), username);
  const bool password_ok = detail::constant_time_equal(credentials.substr(colon + 1), password);
  return user_ok & password_ok;
}

result<normalized_webhook> normalize_postmark_inbound(std::string_view body) {
  auto root = parse_body(body);
  if (!root) return std::move(root).err();
  const auto message_id = get_nonempty_string(*root, "MessageID");
  if (!message_id) return shape_error("MessageID must be a string");

  normalized_webhook out;
  inbound_message& m = out.messages.emplace_back();
  m.provider_message_id = std::string(*message_id);
  m.kind = message_kind::email;
  m.external_id = ascii_lower(sender_address(*root));
  if (m.external_id.empty()) return shape_error("FromFull.Email or From must name the sender");
  m.email = m.external_id;
  m.display_name = std::string(trim(get_string(*root, "FromName").value_or("")));
  m.account_id = ascii_lower(inbox_address(*root));
  if (auto date = get_string(*root, "Date")) m.timestamp_ms = parse_rfc2822_ms(*date).value_or(0);
  m.text = text_body(*root);
  const threading_headers h = find_threading_headers(*root);
  if (h.in_reply_to) m.reply_to = std::string(*h.in_reply_to);
  m.details_json = email_details(*root, h);
  return out;
}

result<normalized_webhook> normalize_postmark_event(std::string_view body) {
  auto root = parse_body(body);
  if (!root) return std::move(root).err();
  const auto record_type = get_string(*root, "RecordType");
  if (!record_type) return shape_error("RecordType must be a string");

  normalized_webhook out;
  struct mapping { std::string_view record; delivery_status status; std::string_view at; std::string_view recipient; };
  static constexpr std::array<mapping, 3> mappings = {{
      {"Delivery", delivery_status::delivered, "DeliveredAt", "Recipient"},
      {"Bounce", delivery_status::failed, "BouncedAt", "Email"},
      {"Open", delivery_status::read, "ReceivedAt", "Recipient"},
  }};
  const mapping* map = nullptr;
  for (const auto& candidate : mappings) {
    if (candidate.record == *record_type) map = &candidate;
  }
  if (map == nullptr) {  // SpamComplaint, LinkClick, SubscriptionChange, ...
    out.ignored = 1;
    return out;
  }
  const auto message_id = get_nonempty_string(*root, "MessageID");
  if (!message_id) return shape_error("MessageID must be a string");
  inbound_status& s = out.statuses.emplace_back();
  s.provider_message_id = std::string(*message_id);
  s.status = map->status;
  s.recipient_id = ascii_lower(trim(get_string(*root, map->recipient).value_or("")));
  if (auto at = get_string(*root, map->at)) s.timestamp_ms = parse_iso8601_ms(*at).value_or(0);
  if (map->status == delivery_status::failed) {
    s.error_code = get_id_text(*root, "TypeCode").value_or("");
    s.error_message = std::string(get_string(*root, "Description").value_or(""));
  }
  return out;
}

}  // namespace parley::engine::providers
