#include "support/webhook_payloads.hpp"

#include <boost/json.hpp>

#include <ctime>

#include "providers/provider.hpp"

namespace parley::testing {

namespace json = boost::json;

// ---- channel configurations ----------------------------------------------------------

std::string meta_channel::to_json() const {
  json::object o{{"type", type},
                 {"name", type + " e2e"},
                 {"app_secret", app_secret},
                 {"access_token", access_token},
                 {"verify_token", verify_token}};
  o[type == "whatsapp" ? "phone_number_ids" : "page_ids"] = json::array{json::value(account_id)};
  return json::serialize(o);
}

std::string telegram_channel::to_json() const {
  return json::serialize(json::object{{"type", "telegram"}, {"name", "telegram e2e"}, {"bot_token", bot_token},
                                      {"secret_token", secret_token}});
}

std::string postmark_channel::to_json() const {
  return json::serialize(json::object{{"type", "email"},
                                      {"name", "email e2e"},
                                      {"from_address", from_address},
                                      {"server_token", server_token},
                                      {"inbound_username", inbound_username},
                                      {"inbound_password", inbound_password}});
}

// ---- WhatsApp --------------------------------------------------------------------------

namespace {

json::object whatsapp_envelope(const std::string& phone_number_id, json::object value) {
  value["messaging_product"] = "whatsapp";
  value["metadata"] = json::object{{"display_phone_number", "15550009999"}, {"phone_number_id", phone_number_id}};
  json::object change{{"field", "messages"}, {"value", std::move(value)}};
  json::object entry{{"id", "102290129340398"}, {"changes", json::array{std::move(change)}}};
  return json::object{{"object", "whatsapp_business_account"}, {"entry", json::array{std::move(entry)}}};
}

json::object meta_messaging_envelope(const std::string& object, const std::string& page_id, std::int64_t time_ms,
                                     json::object event) {
  json::object entry{{"id", page_id}, {"time", time_ms}, {"messaging", json::array{std::move(event)}}};
  return json::object{{"object", object}, {"entry", json::array{std::move(entry)}}};
}

json::object telegram_user(std::int64_t user_id, const std::string& first_name) {
  return json::object{{"id", user_id}, {"is_bot", false}, {"first_name", first_name}, {"language_code", "en"}};
}

json::object telegram_update(std::int64_t update_id, std::int64_t user_id, const std::string& first_name,
                             std::int64_t date_s, json::object content) {
  json::object msg{{"message_id", update_id % 100000 + 1},
                   {"from", telegram_user(user_id, first_name)},
                   {"chat", json::object{{"id", user_id}, {"first_name", first_name}, {"type", "private"}}},
                   {"date", date_s}};
  for (auto& kv : content) msg[kv.key()] = kv.value();
  return json::object{{"update_id", update_id}, {"message", std::move(msg)}};
}

}  // namespace

std::string whatsapp_messages(const std::string& phone_number_id, const std::vector<wa_message>& messages) {
  json::array contacts, msgs;
  for (const auto& m : messages) {
    contacts.push_back(json::object{{"profile", json::object{{"name", m.profile_name}}}, {"wa_id", m.from}});
    msgs.push_back(json::object{{"from", m.from},
                                {"id", m.wamid},
                                {"timestamp", std::to_string(m.timestamp_s)},
                                {"text", json::object{{"body", m.text}}},
                                {"type", "text"}});
  }
  return json::serialize(
      whatsapp_envelope(phone_number_id, json::object{{"contacts", std::move(contacts)}, {"messages", std::move(msgs)}}));
}

std::string whatsapp_text(const std::string& phone_number_id, const wa_message& message) {
  return whatsapp_messages(phone_number_id, {message});
}

std::string whatsapp_status(const std::string& phone_number_id, const std::string& wamid, const std::string& status,
                            const std::string& recipient, std::int64_t timestamp_s) {
  json::object st{{"id", wamid},
                  {"status", status},
                  {"timestamp", std::to_string(timestamp_s)},
                  {"recipient_id", recipient},
                  {"conversation", json::object{{"id", "c0ffee"}, {"origin", json::object{{"type", "service"}}}}},
                  {"pricing", json::object{{"billable", true}, {"pricing_model", "CBP"}, {"category", "service"}}}};
  return json::serialize(whatsapp_envelope(phone_number_id, json::object{{"statuses", json::array{std::move(st)}}}));
}

// ---- Messenger / Instagram -------------------------------------------------------------

std::string meta_messaging_text(const std::string& object, const std::string& page_id, const std::string& sender,
                                const std::string& mid, const std::string& text, std::int64_t timestamp_ms) {
  json::object ev{{"sender", json::object{{"id", sender}}},
                  {"recipient", json::object{{"id", page_id}}},
                  {"timestamp", timestamp_ms},
                  {"message", json::object{{"mid", mid}, {"text", text}}}};
  return json::serialize(meta_messaging_envelope(object, page_id, timestamp_ms, std::move(ev)));
}

std::string messenger_echo(const std::string& page_id, const std::string& customer, const std::string& mid,
                           const std::string& text, std::int64_t timestamp_ms) {
  json::object ev{{"sender", json::object{{"id", page_id}}},
                  {"recipient", json::object{{"id", customer}}},
                  {"timestamp", timestamp_ms},
                  {"message", json::object{{"mid", mid}, {"text", text}, {"is_echo", true}, {"app_id", 1517776481860111}}}};
  return json::serialize(meta_messaging_envelope("page", page_id, timestamp_ms, std::move(ev)));
}

std::string messenger_delivery(const std::string& page_id, const std::string& customer, std::int64_t watermark_ms,
                               const std::vector<std::string>& mids) {
  json::object delivery{{"watermark", watermark_ms}};
  if (!mids.empty()) {
    json::array a;
    for (const auto& m : mids) a.emplace_back(m);
    delivery["mids"] = std::move(a);
  }
  json::object ev{{"sender", json::object{{"id", customer}}},
                  {"recipient", json::object{{"id", page_id}}},
                  {"timestamp", watermark_ms + 500},
                  {"delivery", std::move(delivery)}};
  return json::serialize(meta_messaging_envelope("page", page_id, watermark_ms + 500, std::move(ev)));
}

std::string messenger_read(const std::string& page_id, const std::string& customer, std::int64_t watermark_ms) {
  json::object ev{{"sender", json::object{{"id", customer}}},
                  {"recipient", json::object{{"id", page_id}}},
                  {"timestamp", watermark_ms + 500},
                  {"read", json::object{{"watermark", watermark_ms}}}};
  return json::serialize(meta_messaging_envelope("page", page_id, watermark_ms + 500, std::move(ev)));
}

// ---- Telegram --------------------------------------------------------------------------

std::string telegram_text(std::int64_t update_id, std::int64_t user_id, const std::string& first_name,
                          const std::string& text, std::int64_t date_s) {
  return json::serialize(telegram_update(update_id, user_id, first_name, date_s, json::object{{"text", text}}));
}

std::string telegram_contact(std::int64_t update_id, std::int64_t user_id, const std::string& first_name,
                             const std::string& phone_number, std::int64_t date_s, bool own) {
  json::object contact{{"phone_number", phone_number}, {"first_name", first_name}};
  contact["user_id"] = own ? user_id : user_id + 1;
  return json::serialize(telegram_update(update_id, user_id, first_name, date_s, json::object{{"contact", contact}}));
}

// ---- Postmark --------------------------------------------------------------------------

std::string postmark_inbound(const postmark_email& e) {
  json::object o{
      {"FromName", e.from_name},
      {"MessageStream", "inbound"},
      {"From", e.from_email},
      {"FromFull", json::object{{"Email", e.from_email}, {"Name", e.from_name}, {"MailboxHash", ""}}},
      {"To", e.to},
      {"ToFull", json::array{json::object{{"Email", e.to}, {"Name", ""}, {"MailboxHash", ""}}}},
      {"Cc", ""},
      {"CcFull", json::array{}},
      {"Bcc", ""},
      {"BccFull", json::array{}},
      {"OriginalRecipient", e.to},
      {"Subject", e.subject},
      {"MessageID", e.message_id},
      {"ReplyTo", ""},
      {"MailboxHash", ""},
      {"Date", rfc2822(e.date_s)},
      {"TextBody", e.text},
      {"HtmlBody", "<p>" + e.text + "</p>"},
      {"StrippedTextReply", ""},
      {"Tag", ""},
      {"Headers", json::array{json::object{{"Name", "Message-ID"}, {"Value", "<" + e.message_id + "@mail.example.com>"}},
                              json::object{{"Name", "X-Spam-Status"}, {"Value", "No"}}}},
      {"Attachments", json::array{}}};
  return json::serialize(o);
}

std::string postmark_delivery(const std::string& message_id, const std::string& recipient, std::int64_t at_s) {
  return json::serialize(json::object{{"RecordType", "Delivery"},
                                      {"ServerID", 23},
                                      {"MessageStream", "outbound"},
                                      {"MessageID", message_id},
                                      {"Recipient", recipient},
                                      {"Tag", ""},
                                      {"DeliveredAt", rfc3339(at_s)},
                                      {"Details", "Test delivery webhook details"}});
}

std::string postmark_bounce(const std::string& message_id, const std::string& email, std::int64_t at_s) {
  return json::serialize(json::object{{"RecordType", "Bounce"},
                                      {"ID", 4323372036854775807},
                                      {"Type", "HardBounce"},
                                      {"TypeCode", 1},
                                      {"Name", "Hard bounce"},
                                      {"MessageID", message_id},
                                      {"MessageStream", "outbound"},
                                      {"Description", "The server was unable to deliver your message (ex: unknown user)."},
                                      {"Details", "smtp;550 5.1.1 unknown user"},
                                      {"Email", email},
                                      {"From", "support@acme.example"},
                                      {"BouncedAt", rfc3339(at_s)},
                                      {"Inactive", true},
                                      {"CanActivate", true}});
}

// ---- authentication --------------------------------------------------------------------

std::string meta_signature_header(const std::string& app_secret, const std::string& body) {
  return "X-Hub-Signature-256: sha256=" + engine::providers::hmac_sha256_hex(app_secret, body);
}

std::string telegram_secret_header(const std::string& secret_token) {
  return "X-Telegram-Bot-Api-Secret-Token: " + secret_token;
}

std::string basic_auth_header(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + base64(user + ":" + password);
}

webhook signed_meta(const meta_channel& ch, const std::string& channel_id, std::string body) {
  webhook w;
  w.path = "/webhooks/" + ch.segment() + "/" + channel_id;
  w.headers = {meta_signature_header(ch.app_secret, body), "Content-Type: application/json"};
  w.body = std::move(body);
  return w;
}

webhook signed_telegram(const telegram_channel& ch, const std::string& channel_id, std::string body) {
  return webhook{"/webhooks/telegram/" + channel_id, std::move(body),
                 {telegram_secret_header(ch.secret_token), "Content-Type: application/json"}};
}

webhook signed_postmark(const postmark_channel& ch, const std::string& channel_id, std::string body, bool events) {
  return webhook{"/webhooks/postmark/" + channel_id + (events ? "/events" : ""), std::move(body),
                 {basic_auth_header(ch.inbound_username, ch.inbound_password), "Content-Type: application/json"}};
}

// ---- formatting ------------------------------------------------------------------------

std::string base64(const std::string& bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
             static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string rfc2822(std::int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string rfc3339(std::int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace parley::testing
