// The status webhooks an accepted send causes, as each provider sends them (the
// `status_steps` half of sim_providers.hpp).
#include "sim_providers.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <memory>

namespace parley::bench::sim {

namespace json = boost::json;

namespace {

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

// ---- status webhook bodies --------------------------------------------------------------

/// What every status of one send needs; shared by its steps.
struct status_info {
  provider kind = provider::whatsapp;
  std::string path, secret, basic;  // basic: "user:password" for Postmark
  std::string account, recipient, message_id, from, subject;
  std::int64_t code = 0;
  std::string message, details;
};

webhook_request signed_meta(const status_info& info, std::string body) {
  webhook_request w;
  w.target = info.path;
  if (!info.secret.empty())
    w.headers.emplace_back("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(info.secret, body));
  w.body = std::move(body);
  return w;
}

webhook_request whatsapp_status(const status_info& info, const std::string& status) {
  std::int64_t now = unix_now_us() / 1'000'000;
  std::string wa_id = digits_only(info.recipient);
  json::object st{
      {"id", info.message_id}, {"status", status}, {"timestamp", std::to_string(now)}, {"recipient_id", wa_id}};
  if (status == "sent" || status == "delivered") {
    st["conversation"] = json::object{{"id", "sim-conv-" + wa_id},
                                      {"expiration_timestamp", std::to_string(now + 86'400)},
                                      {"origin", json::object{{"type", "service"}}}};
    st["pricing"] = json::object{{"billable", true}, {"pricing_model", "CBP"}, {"category", "service"}};
  }
  if (status == "failed") {
    st["errors"] = json::array{
        json::object{{"code", info.code},
                     {"title", info.message},
                     {"message", info.message},
                     {"error_data", json::object{{"details", info.details.empty() ? info.message : info.details}}}}};
  }
  json::object value{
      {"messaging_product", "whatsapp"},
      {"metadata", json::object{{"display_phone_number", "15550000000"}, {"phone_number_id", info.account}}},
      {"statuses", json::array{std::move(st)}}};
  json::object change{{"value", std::move(value)}, {"field", "messages"}};
  json::object entry{{"id", "102290129340398"}, {"changes", json::array{std::move(change)}}};
  json::object root{{"object", "whatsapp_business_account"}, {"entry", json::array{std::move(entry)}}};
  return signed_meta(info, json::serialize(root));
}

webhook_request messenger_status(const status_info& info, bool read) {
  std::int64_t ms = unix_now_us() / 1000;
  json::object event{{"sender", json::object{{"id", info.recipient}}},
                     {"recipient", json::object{{"id", info.account}}},
                     {"timestamp", ms}};
  if (read)
    event["read"] = json::object{{"watermark", ms}};
  else
    event["delivery"] = json::object{{"mids", json::array{json::value(info.message_id)}}, {"watermark", ms}};
  json::object entry{{"id", info.account}, {"time", ms}, {"messaging", json::array{std::move(event)}}};
  json::object root{{"object", info.kind == provider::instagram ? "instagram" : "page"},
                    {"entry", json::array{std::move(entry)}}};
  return signed_meta(info, json::serialize(root));
}

webhook_request postmark_status(const status_info& info, bool bounce) {
  std::string at = iso8601_utc(unix_now_us());
  json::object o;
  if (bounce) {
    o = json::object{
        {"RecordType", "Bounce"},
        {"ID", unix_now_us()},
        {"Type", "HardBounce"},
        {"TypeCode", 1},
        {"Name", "Hard bounce"},
        {"Tag", ""},
        {"MessageID", info.message_id},
        {"ServerID", 1},
        {"MessageStream", "outbound"},
        {"Description", "The server was unable to deliver your message (ex: unknown user, mailbox not found)."},
        {"Details", info.details.empty() ? info.message : info.details},
        {"Email", info.recipient},
        {"From", info.from},
        {"BouncedAt", at},
        {"DumpAvailable", false},
        {"Inactive", true},
        {"CanActivate", true},
        {"Subject", info.subject},
        {"Metadata", json::object()}};
  } else {
    o = json::object{
        {"RecordType", "Delivery"},    {"ServerID", 1}, {"MessageStream", "outbound"}, {"MessageID", info.message_id},
        {"Recipient", info.recipient}, {"Tag", ""},     {"DeliveredAt", at},           {"Details", "smtp;250 2.0.0 OK"},
        {"Metadata", json::object()}};
  }
  webhook_request w;
  w.target = info.path;
  if (!info.basic.empty()) w.headers.emplace_back("Authorization", "Basic " + base64(info.basic));
  w.body = json::serialize(o);
  return w;
}

}  // namespace

std::vector<std::function<webhook_request()>> status_steps(const parsed_send& s, const decision& d,
                                                           const status_route& route) {
  std::vector<std::function<webhook_request()>> steps;
  if (d.kind != outcome::accepted || !s.expects_statuses) return steps;
  auto info = std::make_shared<status_info>();
  info->kind = s.kind;
  info->path = route.url.path;
  info->secret = route.secret;
  info->basic = !route.url.userinfo.empty() ? route.url.userinfo : route.secret;
  info->account = s.account;
  info->recipient = s.recipient;
  info->message_id = d.provider_message_id;
  info->from = s.from;
  info->subject = s.subject;
  info->code = d.code;
  info->message = d.message;
  info->details = d.details;
  std::shared_ptr<const status_info> shared = std::move(info);
  switch (s.kind) {
    case provider::whatsapp: {
      std::vector<std::string> order = d.fails_later ? std::vector<std::string>{"sent", "failed"}
                                                     : std::vector<std::string>{"sent", "delivered", "read"};
      for (auto& status : order) steps.emplace_back([shared, status] { return whatsapp_status(*shared, status); });
      break;
    }
    case provider::messenger:
    case provider::instagram:
      if (d.fails_later) break;  // Messenger has no failure webhook: the message just never gets delivered
      steps.emplace_back([shared] { return messenger_status(*shared, false); });
      steps.emplace_back([shared] { return messenger_status(*shared, true); });
      break;
    case provider::postmark: {
      bool bounce = d.fails_later;
      steps.emplace_back([shared, bounce] { return postmark_status(*shared, bounce); });
      break;
    }
    case provider::telegram:
      break;  // Telegram has no delivery statuses
  }
  return steps;
}

}  // namespace parley::bench::sim
