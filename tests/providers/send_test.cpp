// Send adapters (engine/providers/*/*_send.cpp): the request each provider gets for each
// kind (bodies parsed back with Boost.JSON), escaping, base URLs, and how answers map to
// send outcomes, with provider-shaped bodies.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <string>

#include "providers/common/send_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

namespace json = boost::json;
using outcome = send_outcome::kind;

send_credentials whatsapp_channel() {
  send_credentials c;
  c.type = channel_type::whatsapp;
  c.account_id = "1065";
  c.access_token = "EAAtoken";
  return c;
}

send_credentials messenger_channel(channel_type type = channel_type::messenger) {
  send_credentials c;
  c.type = type;
  c.account_id = "page-77";
  c.access_token = "PAGEtoken";
  return c;
}

send_credentials telegram_channel() {
  send_credentials c;
  c.type = channel_type::telegram;
  c.bot_token = "123456:ABC-def_ghi";
  return c;
}

send_credentials email_channel() {
  send_credentials c;
  c.type = channel_type::email;
  c.server_token = "pm-server-token";
  c.from_address = "Support <support@example.com>";
  return c;
}

outbound_payload text(std::string to, std::string body) {
  outbound_payload p;
  p.kind = message_kind::text;
  p.to = std::move(to);
  p.text = std::move(body);
  return p;
}

outbound_payload media(message_kind kind, std::string to, std::string url, std::string caption = {}) {
  outbound_payload p;
  p.kind = kind;
  p.to = std::move(to);
  p.media_url = std::move(url);
  p.text = std::move(caption);
  return p;
}

/// The call, or a test failure naming the error.
http_call expect_call(result<http_call> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? std::string() : r.err().message);
  return r.ok() ? std::move(r).value() : http_call{};
}

std::string header(const http_call& c, std::string_view name) {
  for (const auto& [k, v] : c.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

json::object body_of(const http_call& c) { return json::parse(c.body).as_object(); }

std::string str(const json::value& v) { return std::string(v.as_string()); }

// ---- kinds ---------------------------------------------------------------------------------

TEST(SendKinds, EachChannelTypeSendsItsKindsOnly) {
  EXPECT_TRUE(kind_sendable(channel_type::whatsapp, message_kind::text));
  EXPECT_TRUE(kind_sendable(channel_type::whatsapp, message_kind::template_message));
  EXPECT_TRUE(kind_sendable(channel_type::whatsapp, message_kind::image));
  EXPECT_TRUE(kind_sendable(channel_type::whatsapp, message_kind::document));
  EXPECT_FALSE(kind_sendable(channel_type::whatsapp, message_kind::email));
  EXPECT_FALSE(kind_sendable(channel_type::whatsapp, message_kind::video));
  for (auto t : {channel_type::messenger, channel_type::instagram, channel_type::telegram}) {
    EXPECT_TRUE(kind_sendable(t, message_kind::text));
    EXPECT_TRUE(kind_sendable(t, message_kind::image));
    EXPECT_TRUE(kind_sendable(t, message_kind::document));
    EXPECT_FALSE(kind_sendable(t, message_kind::template_message));
    EXPECT_FALSE(kind_sendable(t, message_kind::email));
  }
  EXPECT_TRUE(kind_sendable(channel_type::email, message_kind::email));
  EXPECT_FALSE(kind_sendable(channel_type::email, message_kind::text));
}

TEST(SendBuild, UnsendableKindOrMissingCredentialIsInvalidArgumentWithoutSecrets) {
  outbound_payload tpl;
  tpl.kind = message_kind::template_message;
  tpl.to = "42";
  tpl.template_name = "hello";
  auto r = build_send(telegram_channel(), "https://api.telegram.org", tpl);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::invalid_argument);
  EXPECT_EQ(r.err().message, "message type template cannot be sent on a telegram channel");

  auto no_token = whatsapp_channel();
  no_token.access_token.clear();
  r = build_send(no_token, "https://graph.facebook.com/v21.0", text("1555", "hi"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message, "access_token is empty");

  r = build_send(whatsapp_channel(), "https://graph.facebook.com/v21.0", text("", "hi"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), errc::invalid_argument);

  r = build_send(whatsapp_channel(), "", text("1555", "hi"));
  ASSERT_FALSE(r.ok());

  auto no_from = email_channel();
  no_from.from_address.clear();
  outbound_payload mail;
  mail.kind = message_kind::email;
  mail.to = "a@b.c";
  r = build_send(no_from, "https://api.postmarkapp.com", mail);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message.find("pm-server-token"), std::string::npos);
}

TEST(SendBuild, DefaultApiBases) {
  EXPECT_EQ(default_api_base(channel_type::whatsapp), "https://graph.facebook.com/v21.0");
  EXPECT_EQ(default_api_base(channel_type::instagram), "https://graph.facebook.com/v21.0");
  EXPECT_EQ(default_api_base(channel_type::telegram), "https://api.telegram.org");
  EXPECT_EQ(default_api_base(channel_type::email), "https://api.postmarkapp.com");
}

// ---- WhatsApp ------------------------------------------------------------------------------

TEST(WhatsAppSend, TextRequestShape) {
  const auto call = expect_call(
      build_send(whatsapp_channel(), "https://graph.facebook.com/v21.0", text("15551234567", "hello there")));
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://graph.facebook.com/v21.0/1065/messages");
  EXPECT_EQ(header(call, "Authorization"), "Bearer EAAtoken");
  EXPECT_EQ(header(call, "Content-Type"), "application/json");
  const auto b = body_of(call);
  EXPECT_EQ(str(b.at("messaging_product")), "whatsapp");
  EXPECT_EQ(str(b.at("recipient_type")), "individual");
  EXPECT_EQ(str(b.at("to")), "15551234567");
  EXPECT_EQ(str(b.at("type")), "text");
  EXPECT_EQ(str(b.at("text").at("body")), "hello there");
  EXPECT_EQ(b.at("text").at("preview_url").as_bool(), false);
  EXPECT_FALSE(b.contains("context"));
}

TEST(WhatsAppSend, ReplyCarriesContext) {
  auto p = text("1555", "re");
  p.reply_to_provider_id = "wamid.HBgL";
  const auto b = body_of(expect_call(build_send(whatsapp_channel(), "https://g/v21.0", p)));
  EXPECT_EQ(str(b.at("context").at("message_id")), "wamid.HBgL");
}

TEST(WhatsAppSend, TemplatePassesComponentsThrough) {
  outbound_payload p;
  p.kind = message_kind::template_message;
  p.to = "1555";
  p.template_name = "order_update";
  p.template_language = "en_US";
  p.template_components_json =
      R"([{"type":"body","parameters":[{"type":"text","text":"A \"quoted\" name"},{"type":"currency","amount_1000":12500}]}])";
  const auto b = body_of(expect_call(build_send(whatsapp_channel(), "https://g/v21.0", p)));
  EXPECT_EQ(str(b.at("type")), "template");
  EXPECT_EQ(str(b.at("template").at("name")), "order_update");
  EXPECT_EQ(str(b.at("template").at("language").at("code")), "en_US");
  const auto& params = b.at("template").at("components").at(0).at("parameters");
  EXPECT_EQ(str(params.at(0).at("text")), "A \"quoted\" name");
  EXPECT_EQ(params.at(1).at("amount_1000").as_int64(), 12500);

  p.template_components_json.clear();
  const auto bare = body_of(expect_call(build_send(whatsapp_channel(), "https://g/v21.0", p)));
  EXPECT_FALSE(bare.at("template").as_object().contains("components"));

  p.template_components_json = R"({"type":"body"})";
  auto r = build_send(whatsapp_channel(), "https://g/v21.0", p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message, "template components must be a JSON array");
  p.template_components_json = "[{";
  EXPECT_FALSE(build_send(whatsapp_channel(), "https://g/v21.0", p).ok());
}

TEST(WhatsAppSend, ImageAndDocument) {
  auto b = body_of(expect_call(build_send(whatsapp_channel(), "https://g/v21.0",
                                          media(message_kind::image, "1555", "https://cdn.example/a.jpg", "look"))));
  EXPECT_EQ(str(b.at("type")), "image");
  EXPECT_EQ(str(b.at("image").at("link")), "https://cdn.example/a.jpg");
  EXPECT_EQ(str(b.at("image").at("caption")), "look");
  EXPECT_FALSE(b.at("image").as_object().contains("filename"));

  auto doc = media(message_kind::document, "1555", "https://cdn.example/inv.pdf");
  doc.filename = "invoice.pdf";
  b = body_of(expect_call(build_send(whatsapp_channel(), "https://g/v21.0", doc)));
  EXPECT_EQ(str(b.at("type")), "document");
  EXPECT_EQ(str(b.at("document").at("link")), "https://cdn.example/inv.pdf");
  EXPECT_EQ(str(b.at("document").at("filename")), "invoice.pdf");
  EXPECT_FALSE(b.at("document").as_object().contains("caption"));
}

TEST(WhatsAppSend, EscapesQuotesNewlinesControlAndKeepsUnicode) {
  const std::string tricky = "say \"hi\"\n\tback\\slash \x01 é 😀 \u2028";
  const auto call = expect_call(build_send(whatsapp_channel(), "https://g/v21.0", text("1555", tricky)));
  EXPECT_EQ(str(body_of(call).at("text").at("body")), tricky);
  EXPECT_EQ(call.body.find('\n'), std::string::npos);
  EXPECT_NE(call.body.find("😀"), std::string::npos);  // UTF-8 passed through
}

TEST(SendBuild, ApiBaseWithPathPrefixAndTrailingSlash) {
  const auto wa = expect_call(build_send(whatsapp_channel(), "http://127.0.0.1:9000/graph/v21.0/", text("1", "x")));
  EXPECT_EQ(wa.url, "http://127.0.0.1:9000/graph/v21.0/1065/messages");
  const auto tg = expect_call(build_send(telegram_channel(), "http://127.0.0.1:9000/tg//", text("1", "x")));
  EXPECT_EQ(tg.url, "http://127.0.0.1:9000/tg/bot123456:ABC-def_ghi/sendMessage");
  outbound_payload mail;
  mail.kind = message_kind::email;
  mail.to = "a@b.c";
  const auto pm = expect_call(build_send(email_channel(), "http://localhost:1/pm/", mail));
  EXPECT_EQ(pm.url, "http://localhost:1/pm/email");
  // An id with URL-significant characters stays one path segment.
  auto odd = messenger_channel();
  odd.account_id = "a/b?c";
  const auto ms = expect_call(build_send(odd, "https://graph.facebook.com/v21.0", text("1", "x")));
  EXPECT_EQ(ms.url, "https://graph.facebook.com/v21.0/a%2Fb%3Fc/messages");
}

// ---- Messenger / Instagram -----------------------------------------------------------------

TEST(MessengerSend, TextWithTag) {
  auto p = text("psid-1", "We're back \"online\"");
  p.messaging_type = "MESSAGE_TAG";
  p.tag = "HUMAN_AGENT";
  const auto call = expect_call(build_send(messenger_channel(), "https://graph.facebook.com/v21.0", p));
  EXPECT_EQ(call.url, "https://graph.facebook.com/v21.0/page-77/messages");
  EXPECT_EQ(header(call, "Authorization"), "Bearer PAGEtoken");
  EXPECT_EQ(header(call, "Content-Type"), "application/json");
  const auto b = body_of(call);
  EXPECT_EQ(str(b.at("recipient").at("id")), "psid-1");
  EXPECT_EQ(str(b.at("messaging_type")), "MESSAGE_TAG");
  EXPECT_EQ(str(b.at("tag")), "HUMAN_AGENT");
  EXPECT_EQ(str(b.at("message").at("text")), "We're back \"online\"");
}

TEST(MessengerSend, DefaultsToResponseWithoutTag) {
  const auto b =
      body_of(expect_call(build_send(messenger_channel(channel_type::instagram), "https://g", text("ig-1", "hi"))));
  EXPECT_EQ(str(b.at("messaging_type")), "RESPONSE");
  EXPECT_FALSE(b.contains("tag"));
}

TEST(MessengerSend, ImageAndFileAttachments) {
  auto b = body_of(expect_call(
      build_send(messenger_channel(), "https://g", media(message_kind::image, "psid", "https://cdn/x.png"))));
  const auto& att = b.at("message").at("attachment");
  EXPECT_EQ(str(att.at("type")), "image");
  EXPECT_EQ(str(att.at("payload").at("url")), "https://cdn/x.png");
  EXPECT_EQ(att.at("payload").at("is_reusable").as_bool(), true);
  b = body_of(expect_call(
      build_send(messenger_channel(), "https://g", media(message_kind::document, "psid", "https://cdn/x.pdf"))));
  EXPECT_EQ(str(b.at("message").at("attachment").at("type")), "file");
}

// ---- Telegram ------------------------------------------------------------------------------

TEST(TelegramSend, TextWithNumericChatIdAndReply) {
  auto p = text("-1001234567890", "line1\nline2");
  p.reply_to_provider_id = "77";
  const auto call = expect_call(build_send(telegram_channel(), "https://api.telegram.org", p));
  EXPECT_EQ(call.url, "https://api.telegram.org/bot123456:ABC-def_ghi/sendMessage");
  EXPECT_EQ(header(call, "Content-Type"), "application/json");
  EXPECT_EQ(header(call, "Authorization"), "<absent>");
  const auto b = body_of(call);
  EXPECT_EQ(b.at("chat_id").as_int64(), -1001234567890);
  EXPECT_EQ(str(b.at("text")), "line1\nline2");
  EXPECT_EQ(b.at("reply_to_message_id").as_int64(), 77);
}

TEST(TelegramSend, NonNumericChatIdIsAString) {
  for (const std::string to : {"@mychannel", "007", "12a", "-", "12345678901234567890"}) {
    const auto b = body_of(expect_call(build_send(telegram_channel(), "https://t", text(to, "x"))));
    ASSERT_TRUE(b.at("chat_id").is_string()) << to;
    EXPECT_EQ(str(b.at("chat_id")), to);
  }
  auto p = text("5", "x");
  p.reply_to_provider_id = "not-a-telegram-id";
  EXPECT_FALSE(body_of(expect_call(build_send(telegram_channel(), "https://t", p))).contains("reply_to_message_id"));
}

TEST(TelegramSend, PhotoAndDocument) {
  auto call = expect_call(
      build_send(telegram_channel(), "https://t", media(message_kind::image, "5", "https://cdn/p.jpg", "cap")));
  EXPECT_EQ(call.url, "https://t/bot123456:ABC-def_ghi/sendPhoto");
  auto b = body_of(call);
  EXPECT_EQ(b.at("chat_id").as_int64(), 5);
  EXPECT_EQ(str(b.at("photo")), "https://cdn/p.jpg");
  EXPECT_EQ(str(b.at("caption")), "cap");
  call =
      expect_call(build_send(telegram_channel(), "https://t", media(message_kind::document, "5", "https://cdn/d.pdf")));
  EXPECT_EQ(call.url, "https://t/bot123456:ABC-def_ghi/sendDocument");
  b = body_of(call);
  EXPECT_EQ(str(b.at("document")), "https://cdn/d.pdf");
  EXPECT_FALSE(b.contains("caption"));
}

// ---- Postmark ------------------------------------------------------------------------------

TEST(PostmarkSend, EmailShapeWithThreadingHeaders) {
  outbound_payload p;
  p.kind = message_kind::email;
  p.to = "customer@example.org";
  p.email_subject = "Re: your order ✓";
  p.text = "Thanks!\r\nBye";
  p.email_html = "<p class=\"x\">Thanks!</p>";
  p.reply_to_provider_id = "abc@mail.example.org";
  const auto call = expect_call(build_send(email_channel(), "https://api.postmarkapp.com", p));
  EXPECT_EQ(call.url, "https://api.postmarkapp.com/email");
  EXPECT_EQ(header(call, "X-Postmark-Server-Token"), "pm-server-token");
  EXPECT_EQ(header(call, "Accept"), "application/json");
  EXPECT_EQ(header(call, "Content-Type"), "application/json");
  const auto b = body_of(call);
  EXPECT_EQ(str(b.at("From")), "Support <support@example.com>");
  EXPECT_EQ(str(b.at("To")), "customer@example.org");
  EXPECT_EQ(str(b.at("Subject")), "Re: your order ✓");
  EXPECT_EQ(str(b.at("TextBody")), "Thanks!\r\nBye");
  EXPECT_EQ(str(b.at("HtmlBody")), "<p class=\"x\">Thanks!</p>");
  EXPECT_EQ(str(b.at("MessageStream")), "outbound");
  const auto& headers = b.at("Headers").as_array();
  ASSERT_EQ(headers.size(), 2U);
  EXPECT_EQ(str(headers.at(0).at("Name")), "In-Reply-To");
  EXPECT_EQ(str(headers.at(0).at("Value")), "<abc@mail.example.org>");
  EXPECT_EQ(str(headers.at(1).at("Name")), "References");
}

TEST(PostmarkSend, HtmlOnlyAndPlainWithoutReply) {
  outbound_payload p;
  p.kind = message_kind::email;
  p.to = "c@e.org";
  p.email_subject = "s";
  p.email_html = "<b>x</b>";
  auto b = body_of(expect_call(build_send(email_channel(), "https://p", p)));
  EXPECT_FALSE(b.contains("TextBody"));
  EXPECT_FALSE(b.contains("Headers"));
  p.email_html.clear();
  p.reply_to_provider_id = "<already@bracketed>";
  b = body_of(expect_call(build_send(email_channel(), "https://p", p)));
  EXPECT_EQ(str(b.at("TextBody")), "");  // Postmark needs one body part
  EXPECT_EQ(str(b.at("Headers").at(0).at("Value")), "<already@bracketed>");
}

// ---- interpret: WhatsApp -------------------------------------------------------------------

std::string graph_error_body(int code, std::string_view message, bool transient = false) {
  return R"({"error":{"message":")" + std::string(message) + R"(","type":"OAuthException","code":)" +
         std::to_string(code) + (transient ? R"(,"is_transient":true)" : "") +
         R"(,"error_data":{"messaging_product":"whatsapp","details":"more detail"},"fbtrace_id":"AbC"}})";
}

TEST(WhatsAppInterpret, AcceptedWithWamid) {
  const auto o = interpret_send(channel_type::whatsapp, 200,
                                R"({"messaging_product":"whatsapp","contacts":[{"input":"1555","wa_id":"1555"}],)"
                                R"("messages":[{"id":"wamid.HBgLMTU1"}]})",
                                std::nullopt);
  EXPECT_EQ(o.result, outcome::accepted);
  EXPECT_EQ(o.provider_message_id, "wamid.HBgLMTU1");
  EXPECT_FALSE(o.throttled);
}

TEST(WhatsAppInterpret, TwoHundredWithoutIdFails) {
  const auto o = interpret_send(channel_type::whatsapp, 200, R"({"messages":[]})", std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "200");
  EXPECT_FALSE(o.error_message.empty());
}

TEST(WhatsAppInterpret, ThrottlingCodesRetryThrottled) {
  for (int code : {130429, 131056, 80007, 131048, 4}) {
    const auto o =
        interpret_send(channel_type::whatsapp, 400, graph_error_body(code, "(#130429) Rate limit hit"), std::nullopt);
    EXPECT_EQ(o.result, outcome::retry) << code;
    EXPECT_TRUE(o.throttled) << code;
    EXPECT_EQ(o.error_code, std::to_string(code));
  }
}

TEST(WhatsAppInterpret, TemporaryCodesRetryWithoutThrottle) {
  for (int code : {1, 2, 131016}) {
    const auto o =
        interpret_send(channel_type::whatsapp, 400, graph_error_body(code, "Service unavailable"), std::nullopt);
    EXPECT_EQ(o.result, outcome::retry) << code;
    EXPECT_FALSE(o.throttled) << code;
  }
  const auto t = interpret_send(channel_type::whatsapp, 400, graph_error_body(131000, "x", true), std::nullopt);
  EXPECT_EQ(t.result, outcome::retry);
}

TEST(WhatsAppInterpret, ReEngagementIsWindowClosed) {
  const auto o = interpret_send(channel_type::whatsapp, 400,
                                graph_error_body(131047, "(#131047) Re-engagement message"), std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "window_closed");
  EXPECT_EQ(o.error_message, "(#131047) Re-engagement message: more detail");
}

TEST(WhatsAppInterpret, PermanentCodeFailsWithCode) {
  const auto o =
      interpret_send(channel_type::whatsapp, 400, graph_error_body(131026, "Message undeliverable"), std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "131026");
  EXPECT_FALSE(o.throttled);
  EXPECT_EQ(o.retry_after_ms, 0);
}

TEST(WhatsAppInterpret, AuthErrorsFailWithGraphCodeOrUnauthorized) {
  auto o = interpret_send(channel_type::whatsapp, 401,
                          R"({"error":{"message":"Error validating access token","type":"OAuthException","code":190}})",
                          std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "190");
  EXPECT_EQ(o.error_message, "Error validating access token");
  o = interpret_send(channel_type::whatsapp, 403, "<html>Forbidden</html>", std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "unauthorized");
}

TEST(WhatsAppInterpret, ServerErrorsTimeoutsAndNoAnswerRetry) {
  for (unsigned status : {500U, 502U, 503U, 504U, 408U}) {
    const auto o = interpret_send(channel_type::whatsapp, status, "<html>bad gateway</html>", std::nullopt);
    EXPECT_EQ(o.result, outcome::retry) << status;
    EXPECT_FALSE(o.throttled) << status;
    EXPECT_EQ(o.error_code, std::to_string(status));
  }
  const auto none = interpret_send(channel_type::whatsapp, 0, "connection refused", std::nullopt);
  EXPECT_EQ(none.result, outcome::retry);
  EXPECT_EQ(none.error_code, "transport");
  EXPECT_EQ(none.error_message, "connection refused");
}

TEST(WhatsAppInterpret, Http429WithRetryAfterSeconds) {
  const auto o = interpret_send(channel_type::whatsapp, 429, graph_error_body(130429, "slow down"), "12");
  EXPECT_EQ(o.result, outcome::retry);
  EXPECT_TRUE(o.throttled);
  EXPECT_EQ(o.retry_after_ms, 12000);
}

TEST(WhatsAppInterpret, LongErrorMessageIsTruncatedOnUtf8Boundary) {
  std::string msg;
  for (int i = 0; i < 150; ++i) msg += "é";  // 300 bytes
  const auto o =
      interpret_send(channel_type::whatsapp, 400, R"({"error":{"code":100,"message":")" + msg + R"("}})", std::nullopt);
  EXPECT_EQ(o.error_code, "100");
  EXPECT_EQ(o.error_message.size(), 200U);
  EXPECT_EQ(o.error_message, msg.substr(0, 200));
  const auto odd = detail::truncate_utf8("a" + msg, 200);  // the 200th byte starts an "é"
  EXPECT_EQ(odd.size(), 199U);
}

// ---- interpret: Messenger ------------------------------------------------------------------

TEST(MessengerInterpret, AcceptedWithMessageId) {
  const auto o =
      interpret_send(channel_type::messenger, 200, R"({"recipient_id":"1254","message_id":"m_AG5Hz2U"})", std::nullopt);
  EXPECT_EQ(o.result, outcome::accepted);
  EXPECT_EQ(o.provider_message_id, "m_AG5Hz2U");
  EXPECT_EQ(interpret_send(channel_type::instagram, 200, R"({"recipient_id":"1","message_id":"aWdf"})", std::nullopt)
                .provider_message_id,
            "aWdf");
}

TEST(MessengerInterpret, RateLimitCodesRetryThrottled) {
  for (int code : {613, 4, 17, 32}) {
    const auto o =
        interpret_send(channel_type::messenger, 400,
                       graph_error_body(code, "Calls to this api have exceeded the rate limit."), std::nullopt);
    EXPECT_EQ(o.result, outcome::retry) << code;
    EXPECT_TRUE(o.throttled) << code;
    EXPECT_EQ(o.error_code, std::to_string(code));
  }
}

TEST(MessengerInterpret, OutsideWindowFailsWithProviderCode) {
  const auto o = interpret_send(
      channel_type::messenger, 400,
      R"({"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"x"}})",
      std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "10");
  EXPECT_EQ(o.error_message, "(#10) This message is sent outside of allowed window.");
}

TEST(MessengerInterpret, TemporaryAndServerErrorsRetry) {
  EXPECT_EQ(interpret_send(channel_type::messenger, 500, graph_error_body(2, "temporary"), std::nullopt).result,
            outcome::retry);
  EXPECT_EQ(interpret_send(channel_type::messenger, 503, "", std::nullopt).result, outcome::retry);
  const auto auth = interpret_send(channel_type::messenger, 401, "", std::nullopt);
  EXPECT_EQ(auth.result, outcome::failed);
  EXPECT_EQ(auth.error_code, "unauthorized");
}

// ---- interpret: Telegram -------------------------------------------------------------------

TEST(TelegramInterpret, AcceptedWithMessageIdAsText) {
  const auto o = interpret_send(
      channel_type::telegram, 200,
      R"({"ok":true,"result":{"message_id":4242,"chat":{"id":5,"type":"private"},"date":1700000000,"text":"x"}})",
      std::nullopt);
  EXPECT_EQ(o.result, outcome::accepted);
  EXPECT_EQ(o.provider_message_id, "4242");
}

TEST(TelegramInterpret, TooManyRequestsUsesBodyRetryAfter) {
  const auto o = interpret_send(
      channel_type::telegram, 429,
      R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}})",
      std::nullopt);
  EXPECT_EQ(o.result, outcome::retry);
  EXPECT_TRUE(o.throttled);
  EXPECT_EQ(o.retry_after_ms, 35000);
  EXPECT_EQ(o.error_code, "429");
  EXPECT_EQ(o.error_message, "Too Many Requests: retry after 35");
  // The header wins over the body when both are present.
  EXPECT_EQ(interpret_send(channel_type::telegram, 429,
                           R"({"ok":false,"error_code":429,"description":"x","parameters":{"retry_after":35}})", "3")
                .retry_after_ms,
            3000);
}

TEST(TelegramInterpret, BlockedOrBadRequestFails) {
  auto o = interpret_send(channel_type::telegram, 403,
                          R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})",
                          std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "403");
  EXPECT_EQ(o.error_message, "Forbidden: bot was blocked by the user");
  o = interpret_send(channel_type::telegram, 400,
                     R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})", std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "400");
  o = interpret_send(channel_type::telegram, 401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})",
                     std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "401");
}

TEST(TelegramInterpret, OkFalseOnTwoHundredIsAnError) {
  const auto o = interpret_send(channel_type::telegram, 200,
                                R"({"ok":false,"error_code":400,"description":"Bad Request: message text is empty"})",
                                std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "400");
  EXPECT_EQ(interpret_send(channel_type::telegram, 502, "Bad Gateway", std::nullopt).result, outcome::retry);
}

// ---- interpret: Postmark -------------------------------------------------------------------

TEST(PostmarkInterpret, AcceptedWithMessageId) {
  const auto o = interpret_send(channel_type::email, 200,
                                R"({"To":"c@e.org","SubmittedAt":"2014-02-17T07:25:01.4178645-05:00",)"
                                R"("MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","ErrorCode":0,"Message":"OK"})",
                                std::nullopt);
  EXPECT_EQ(o.result, outcome::accepted);
  EXPECT_EQ(o.provider_message_id, "0a129aee-e1cd-480d-b08d-4f48548ff48d");
}

TEST(PostmarkInterpret, ErrorCodesFail) {
  auto o = interpret_send(
      channel_type::email, 422,
      R"({"ErrorCode":406,"Message":"You tried to send to a recipient that has been marked as inactive."})",
      std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "406");
  EXPECT_EQ(o.error_message, "You tried to send to a recipient that has been marked as inactive.");
  o = interpret_send(
      channel_type::email, 401,
      R"({"ErrorCode":10,"Message":"No Account or Server API tokens were supplied in the HTTP headers."})",
      std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "10");
  // ErrorCode != 0 on a 200 is an error too.
  o = interpret_send(channel_type::email, 200, R"({"ErrorCode":300,"Message":"Invalid email request","MessageID":"x"})",
                     std::nullopt);
  EXPECT_EQ(o.result, outcome::failed);
  EXPECT_EQ(o.error_code, "300");
}

TEST(PostmarkInterpret, RateLimitAndServerErrorsRetry) {
  auto o = interpret_send(channel_type::email, 429, R"({"ErrorCode":429,"Message":"Rate limit exceeded"})", "5");
  EXPECT_EQ(o.result, outcome::retry);
  EXPECT_TRUE(o.throttled);
  EXPECT_EQ(o.retry_after_ms, 5000);
  o = interpret_send(channel_type::email, 500, R"({"ErrorCode":0,"Message":"Internal Server Error"})", std::nullopt);
  EXPECT_EQ(o.result, outcome::retry);
  EXPECT_FALSE(o.throttled);
  EXPECT_EQ(o.error_code, "500");
  EXPECT_EQ(o.error_message, "Internal Server Error");
}

// ---- Retry-After ---------------------------------------------------------------------------

TEST(RetryAfter, SecondsAndHttpDates) {
  constexpr std::int64_t now = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(detail::parse_retry_after_ms("120", now), 120000);
  EXPECT_EQ(detail::parse_retry_after_ms(" 0 ", now), 0);
  EXPECT_EQ(detail::parse_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now), 30000);
  EXPECT_EQ(detail::parse_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);  // past
  EXPECT_EQ(detail::parse_retry_after_ms("soon", now), std::nullopt);
  EXPECT_EQ(detail::parse_retry_after_ms("", now), std::nullopt);
  EXPECT_EQ(detail::parse_retry_after_ms("-5", now), std::nullopt);
  EXPECT_GT(*detail::parse_retry_after_ms("99999999999999999999999", now), 0);  // saturates
}

TEST(RetryAfter, HttpDateHeaderOnARetryIsBoundedByTheDate) {
  // A date one hour ahead of the real clock: between 59 and 60 minutes.
  const auto ahead = std::chrono::system_clock::now() + std::chrono::hours(1);
  const std::time_t t = std::chrono::system_clock::to_time_t(ahead);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  const auto o = interpret_send(channel_type::whatsapp, 503, "", std::string_view(buf));
  EXPECT_EQ(o.result, outcome::retry);
  EXPECT_GT(o.retry_after_ms, 3'540'000);
  EXPECT_LE(o.retry_after_ms, 3'600'000);
  // Not kept on a permanent failure.
  EXPECT_EQ(interpret_send(channel_type::whatsapp, 400, graph_error_body(100, "bad"), "30").retry_after_ms, 0);
}

}  // namespace
}  // namespace parley::engine::providers
