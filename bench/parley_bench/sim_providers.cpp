#include "sim_providers.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <random>

namespace parley::bench::sim {

namespace json = boost::json;

namespace {

// ---- small helpers --------------------------------------------------------------------

const json::value* field(const json::value* v, std::string_view key) {
  if (v == nullptr) return nullptr;
  const auto* o = v->if_object();
  return o != nullptr ? o->if_contains(key) : nullptr;
}

// A string field as text; numbers too (ids are often sent as numbers).
std::string text_of(const json::value* v) {
  if (v == nullptr) return {};
  if (const auto* s = v->if_string()) return std::string(*s);
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return {};
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "Bearer X" (scheme case-insensitive) → X.
std::string bearer(std::string_view authorization) {
  if (authorization.size() < 7 || lower(authorization.substr(0, 7)) != "bearer ") return {};
  auto token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return std::string(token);
}

// A query-string value: %XX escapes, '+' for a space.
std::string query_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && end == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

std::string query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key && eq != std::string_view::npos) return query_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// "v19.0", "v20" …
bool is_graph_version(std::string_view s) {
  return s.size() >= 2 && s[0] == 'v' && s.substr(1).find_first_not_of("0123456789.") == std::string_view::npos;
}

std::string fbtrace_id() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "A";
  for (int i = 0; i < 22; ++i) id.push_back(alphabet[rng() % (sizeof alphabet - 1)]);
  return id;
}

answer json_answer(int status, const json::value& v) {
  answer a;
  a.status = status;
  a.body = json::serialize(v);
  return a;
}

// ---- each provider's error shape ------------------------------------------------------

std::string graph_message(std::int64_t code, const std::string& message) {
  if (message.rfind("(#", 0) == 0) return message;
  return "(#" + std::to_string(code) + ") " + message;
}

answer error_answer(provider p, int status, std::int64_t code, const std::string& message, const std::string& details,
                    int retry_after) {
  answer a;
  switch (p) {
    case provider::whatsapp:
    case provider::messenger:
    case provider::instagram: {
      json::object e{{"message", graph_message(code, message)}, {"type", "OAuthException"}, {"code", code}};
      if (p == provider::whatsapp) {
        e["error_data"] =
            json::object{{"messaging_product", "whatsapp"}, {"details", details.empty() ? message : details}};
      }
      e["fbtrace_id"] = fbtrace_id();
      a = json_answer(status, json::object{{"error", std::move(e)}});
      break;
    }
    case provider::telegram: {
      json::object o{{"ok", false}, {"error_code", status}, {"description", message}};
      if (retry_after > 0) o["parameters"] = json::object{{"retry_after", retry_after}};
      a = json_answer(status, o);
      break;
    }
    case provider::postmark:
      a = json_answer(status, json::object{{"ErrorCode", code}, {"Message", message}});
      break;
  }
  if (retry_after > 0) a.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return a;
}

void refuse(parsed_send& s, int status, std::int64_t code, const std::string& message,
            const std::string& details = {}) {
  if (s.refusal.status == 0) s.refusal = error_answer(s.kind, status, code, message, details, 0);
}

// ---- parsing, per provider --------------------------------------------------------------

void validate_whatsapp(parsed_send& s, const json::value& body) {
  if (text_of(field(&body, "messaging_product")) != "whatsapp") {
    return refuse(s, 400, 100, "Invalid parameter", "messaging_product must be \"whatsapp\"");
  }
  s.recipient = text_of(field(&body, "to"));
  if (s.recipient.empty()) return refuse(s, 400, 100, "The parameter to is required.");
  s.type = text_of(field(&body, "type"));
  if (s.type.empty()) s.type = "text";
  const json::value* payload = field(&body, s.type);
  if (s.type == "text") {
    if (text_of(field(payload, "body")).empty()) return refuse(s, 400, 100, "The parameter text['body'] is required.");
  } else if (s.type == "template") {
    if (text_of(field(payload, "name")).empty())
      return refuse(s, 400, 100, "The parameter template['name'] is required.");
    if (text_of(field(field(payload, "language"), "code")).empty()) {
      return refuse(s, 400, 100, "The parameter template['language']['code'] is required.");
    }
  } else if (s.type == "image" || s.type == "document" || s.type == "audio" || s.type == "video" ||
             s.type == "sticker") {
    if (text_of(field(payload, "link")).empty() && text_of(field(payload, "id")).empty()) {
      return refuse(s, 400, 100, "Invalid parameter", "Param " + s.type + " must contain either id or link");
    }
  } else if (s.type == "interactive" || s.type == "location" || s.type == "contacts" || s.type == "reaction") {
    if (payload == nullptr) return refuse(s, 400, 100, "The parameter " + s.type + " is required.");
  } else {
    return refuse(s, 400, 100, "Invalid parameter", "Unsupported message type: " + s.type);
  }
}

void validate_messenger(parsed_send& s, const json::value& body) {
  s.recipient = text_of(field(field(&body, "recipient"), "id"));
  if (s.recipient.empty()) return refuse(s, 400, 100, "The parameter recipient is required");
  const json::value* message = field(&body, "message");
  std::string action = text_of(field(&body, "sender_action"));
  if (message == nullptr && !action.empty()) {
    if (action != "typing_on" && action != "typing_off" && action != "mark_seen") {
      return refuse(s, 400, 100, "Param sender_action must be one of {mark_seen, typing_on, typing_off}");
    }
    s.type = "sender_action";
    s.expects_statuses = false;
    return;
  }
  std::string messaging_type = text_of(field(&body, "messaging_type"));
  if (messaging_type.empty()) return refuse(s, 400, 100, "The parameter messaging_type is required");
  if (messaging_type != "RESPONSE" && messaging_type != "UPDATE" && messaging_type != "MESSAGE_TAG") {
    return refuse(s, 400, 100, "Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}");
  }
  if (messaging_type == "MESSAGE_TAG" && text_of(field(&body, "tag")).empty()) {
    return refuse(s, 400, 100, "The parameter tag is required for messaging_type MESSAGE_TAG");
  }
  if (message == nullptr || !message->is_object())
    return refuse(s, 400, 100, "Must send either message or sender action");
  if (!text_of(field(message, "text")).empty()) {
    s.type = "text";
  } else if (const auto* attachment = field(message, "attachment"); attachment != nullptr && attachment->is_object()) {
    s.type = text_of(field(attachment, "type"));
    if (s.type.empty()) return refuse(s, 400, 100, "The parameter message[attachment][type] is required");
  } else {
    return refuse(s, 400, 100, "Message cannot be empty, must provide valid attachment or text");
  }
}

parsed_send parse_graph(std::string_view account, const request_view& r, std::string_view query) {
  parsed_send s;
  s.account = std::string(account);
  s.access_token = bearer(r.authorization);
  if (s.access_token.empty()) s.access_token = query_param(query, "access_token");
  boost::system::error_code ec;
  json::value body = r.body.empty() ? json::value() : json::parse(r.body, ec);
  bool readable = !ec && body.is_object();
  if (readable && field(&body, "messaging_product") != nullptr) {
    s.kind = provider::whatsapp;
  } else if (readable && field(&body, "recipient") != nullptr) {
    s.kind = provider::messenger;
  } else if (account == "me") {
    s.kind = provider::messenger;
  } else {
    s.kind = provider::whatsapp;
    s.graph_guess = true;  // the route table may say this is a page
  }
  s.type = "text";
  if (r.method != "POST") refuse(s, 400, 100, "Unsupported " + lower(r.method) + " request.");
  if (s.access_token.empty()) refuse(s, 401, 190, "Invalid OAuth access token - Cannot parse access token");
  if (!readable) refuse(s, 400, 100, "Invalid parameter", "The request body is not a JSON object");
  if (s.refusal.status != 0) return s;
  if (s.kind == provider::whatsapp)
    validate_whatsapp(s, body);
  else
    validate_messenger(s, body);
  return s;
}

parsed_send parse_telegram(std::string_view rest, const request_view& r) {
  parsed_send s;
  s.kind = provider::telegram;
  s.expects_statuses = false;
  auto slash = rest.find('/');
  s.account = std::string(rest.substr(0, slash));
  std::string method = slash == std::string_view::npos ? "" : lower(rest.substr(slash + 1));
  s.type = "text";
  auto colon = s.account.find(':');
  if (method.empty()) {
    refuse(s, 404, 404, "Not Found");
  } else if (colon == std::string::npos || colon + 1 == s.account.size() || !all_digits(s.account.substr(0, colon))) {
    refuse(s, 401, 401, "Unauthorized");
  } else if (method != "sendmessage" && method != "sendphoto" && method != "senddocument") {
    refuse(s, 404, 404, "Not Found: method not found");
  }
  if (s.refusal.status != 0) return s;
  boost::system::error_code ec;
  json::value body = r.body.empty() ? json::value(json::object()) : json::parse(r.body, ec);
  if (ec || !body.is_object()) {
    refuse(s, 400, 400, "Bad Request: can't parse JSON object");
    return s;
  }
  const json::value* chat = field(&body, "chat_id");
  s.recipient = text_of(chat);
  if (s.recipient.empty()) {
    refuse(s, 400, 400, "Bad Request: chat_id is empty");
    return s;
  }
  bool numeric =
      all_digits(s.recipient) || (s.recipient.size() > 1 && s.recipient[0] == '-' && all_digits(s.recipient.substr(1)));
  s.chat_json = numeric ? s.recipient : json::serialize(json::value(s.recipient));
  if (method == "sendmessage") {
    s.text = text_of(field(&body, "text"));
    if (s.text.empty()) refuse(s, 400, 400, "Bad Request: message text is empty");
  } else {
    s.type = method == "sendphoto" ? "image" : "document";
    std::string key = method == "sendphoto" ? "photo" : "document";
    s.text = text_of(field(&body, "caption"));
    if (text_of(field(&body, key)).empty()) refuse(s, 400, 400, "Bad Request: there is no " + key + " in the request");
  }
  return s;
}

parsed_send parse_postmark(const request_view& r) {
  parsed_send s;
  s.kind = provider::postmark;
  s.type = "email";
  s.account = std::string(r.postmark_token);
  if (r.method != "POST") refuse(s, 405, 0, "Method not allowed");
  if (s.account.empty()) {
    refuse(s, 401, 10,
           "No Account or Server API tokens were supplied in the HTTP headers. Please add a header for either "
           "X-Postmark-Server-Token or X-Postmark-Account-Token.");
  }
  if (s.refusal.status != 0) return s;
  boost::system::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (ec || !body.is_object()) {
    refuse(s, 422, 402, "Received invalid JSON input.");
    return s;
  }
  s.from = text_of(field(&body, "From"));
  s.recipient = text_of(field(&body, "To"));
  s.subject = text_of(field(&body, "Subject"));
  if (s.from.find('@') == std::string::npos) {
    refuse(s, 422, 300,
           "Error parsing 'From': Illegal email address '" + s.from + "'. It must contain the '@' character.");
  } else if (s.recipient.empty()) {
    refuse(s, 422, 300, "Zero recipients specified");
  } else if (s.recipient.find('@') == std::string::npos) {
    refuse(s, 422, 300,
           "Error parsing 'To': Illegal email address '" + s.recipient + "'. It must contain the '@' character.");
  } else if (text_of(field(&body, "TextBody")).empty() && text_of(field(&body, "HtmlBody")).empty()) {
    refuse(s, 422, 300, "Provide either email TextBody or HtmlBody or both.");
  }
  return s;
}

// Usual texts of the error codes tests and rules name most.
std::string known_message(provider p, std::int64_t code, int status) {
  switch (code) {
    case 131047:
      return "Re-engagement message";
    case 131026:
      return "Message undeliverable";
    case 130429:
      return "Rate limit hit";
    case 131056:
      return "(Business Account, Consumer Account) pair rate limit hit";
    case 131048:
      return "Spam rate limit hit";
    case 80007:
      return "Rate limit issues";
    case 613:
      return "Calls to this api have exceeded the rate limit.";
    case 551:
      return "This person isn't available right now.";
    default:
      break;
  }
  if (p == provider::postmark && code == 406) {
    return "You tried to send to recipient(s) that have been marked as inactive. Inactive recipients are ones that "
           "have "
           "generated a hard bounce, a spam complaint, or a manual suppression.";
  }
  if (p == provider::telegram) {
    if (status == 403) return "Forbidden: bot was blocked by the user";
    if (status == 400) return "Bad Request: chat not found";
  }
  return "Simulated error";
}

}  // namespace

std::string digits_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

std::string iso8601_utc(std::int64_t unix_us) {
  std::time_t secs = static_cast<std::time_t>(unix_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(unix_us % 1'000'000));
  return buf;
}

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<parsed_send> parse_send(const request_view& r) {
  auto q = r.target.find('?');
  std::string_view path = r.target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : r.target.substr(q + 1);
  if (path.substr(0, 4) == "/bot") return parse_telegram(path.substr(4), r);
  if (path == "/email") return parse_postmark(r);
  std::vector<std::string_view> segments;
  for (std::string_view rest = path; !rest.empty();) {
    auto slash = rest.find('/');
    if (slash != 0) segments.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (segments.size() == 3 && is_graph_version(segments[0]) && segments[2] == "messages") {
    return parse_graph(segments[1], r, query);
  }
  if (segments.size() == 2 && segments[1] == "messages" && segments[0] != "_sim")
    return parse_graph(segments[0], r, query);
  return std::nullopt;
}

void fill_throttle(provider p, decision& d) {
  d.http_status = 429;
  d.retry_after = 1;
  switch (p) {
    case provider::whatsapp:
      d.code = 130429;
      d.message = "Rate limit hit";
      d.details = "Cloud API message throughput has been reached.";
      break;
    case provider::messenger:
    case provider::instagram:
      d.code = 613;
      d.message = "Calls to this api have exceeded the rate limit.";
      break;
    case provider::telegram:
      d.code = 429;
      d.message = "Too Many Requests: retry after 1";
      break;
    case provider::postmark:
      d.code = 429;
      d.message = "Rate limit exceeded, retry later.";
      break;
  }
}

void fill_transient_error(provider p, decision& d) {
  bool unavailable = d.http_status == 503;
  switch (p) {
    case provider::whatsapp:
      d.code = unavailable ? 131016 : 131000;
      d.message = unavailable ? "Service unavailable" : "Something went wrong";
      d.details =
          unavailable ? "A service is temporarily unavailable." : "Message failed to send because of an unknown error.";
      break;
    case provider::messenger:
    case provider::instagram:
      d.code = unavailable ? 2 : 1;
      d.message = unavailable ? "An unexpected error has occurred. Please retry your request later."
                              : "An unknown error has occurred.";
      break;
    case provider::telegram:
      d.code = d.http_status;
      d.message = unavailable ? "Service Unavailable" : "Internal Server Error";
      break;
    case provider::postmark:
      d.code = d.http_status;
      d.message = unavailable ? "Service temporarily unavailable." : "Internal server error.";
      break;
  }
}

void fill_rule_defaults(provider p, decision& d) {
  if (d.code == 0 && d.http_status >= 300) {
    if (d.http_status == 429) {
      decision t;
      fill_throttle(p, t);
      d.code = t.code;
    } else if (d.http_status >= 500) {
      decision t;
      t.http_status = d.http_status;
      fill_transient_error(p, t);
      d.code = t.code;
    } else {
      d.code = p == provider::telegram ? d.http_status : p == provider::postmark ? 300 : 100;
    }
  }
  if (d.message.empty()) {
    d.message = p == provider::telegram && d.http_status == 429
                    ? "Too Many Requests: retry after " + std::to_string(std::max(d.retry_after, 1))
                    : known_message(p, d.code, d.http_status);
  }
}

answer render_answer(const parsed_send& s, const decision& d) {
  switch (d.kind) {
    case outcome::refused:
      return s.refusal;
    case outcome::rule:
    case outcome::throttled:
    case outcome::error:
      return error_answer(s.kind, d.http_status, d.code, d.message, d.details, d.retry_after);
    case outcome::accepted:
      break;
  }
  switch (s.kind) {
    case provider::whatsapp: {
      json::object msg{{"id", d.provider_message_id}};
      if (s.type == "template") msg["message_status"] = "accepted";
      return json_answer(
          200, json::object{
                   {"messaging_product", "whatsapp"},
                   {"contacts", json::array{json::object{{"input", s.recipient}, {"wa_id", digits_only(s.recipient)}}}},
                   {"messages", json::array{std::move(msg)}}});
    }
    case provider::messenger:
    case provider::instagram: {
      json::object o{{"recipient_id", s.recipient}};
      if (s.expects_statuses) o["message_id"] = d.provider_message_id;
      return json_answer(200, o);
    }
    case provider::telegram: {
      std::int64_t bot_id = 0;
      std::from_chars(s.account.data(), s.account.data() + s.account.find(':'), bot_id);
      boost::system::error_code ec;
      json::value chat_id = json::parse(s.chat_json, ec);
      json::object result{
          {"message_id", d.telegram_message_id},
          {"from",
           json::object{
               {"id", bot_id}, {"is_bot", true}, {"first_name", "Parley Simulator"}, {"username", "parley_sim_bot"}}},
          {"chat", json::object{{"id", chat_id}, {"type", chat_id.is_string() ? "channel" : "private"}}},
          {"date", d.at_unix_us / 1'000'000}};
      std::string file_id = "sim-file-" + std::to_string(d.telegram_message_id);
      if (s.type == "text") {
        result["text"] = s.text;
      } else {
        if (s.type == "image") {
          result["photo"] = json::array{
              json::object{{"file_id", file_id}, {"file_unique_id", file_id}, {"width", 320}, {"height", 240}}};
        } else {
          result["document"] = json::object{{"file_id", file_id}, {"file_unique_id", file_id}};
        }
        if (!s.text.empty()) result["caption"] = s.text;
      }
      return json_answer(200, json::object{{"ok", true}, {"result", std::move(result)}});
    }
    case provider::postmark:
      return json_answer(200, json::object{{"To", s.recipient},
                                           {"SubmittedAt", iso8601_utc(d.at_unix_us)},
                                           {"MessageID", d.provider_message_id},
                                           {"ErrorCode", 0},
                                           {"Message", "OK"}});
  }
  return {};
}

}  // namespace parley::bench::sim
