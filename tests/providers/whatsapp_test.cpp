#include <gtest/gtest.h>

#include "normalize_test_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using testing::expect_invalid;
using testing::expect_ok;

const std::vector<std::string> any_account;
const std::vector<std::string> our_account{"106540352242922"};

/// One messages-change webhook around `messages_json` (the value of "messages").
std::string with_messages(std::string_view messages_json, std::string_view phone_number_id = "106540352242922") {
  return std::string(R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{)"
                     R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":")") +
         std::string(phone_number_id) +
         R"("},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":)" +
         std::string(messages_json) + R"(}, "field":"messages"}]}]})";
}

inbound_message single_message(std::string_view messages_json) {
  auto w = expect_ok(normalize_whatsapp(with_messages(messages_json), our_account));
  EXPECT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.ignored, 0u);
  return w.messages.empty() ? inbound_message{} : w.messages.front();
}

TEST(WhatsAppNormalize, TextMessageMapsEveryField) {
  const std::string_view body = R"({
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [{
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [{
          "from": "16505551234",
          "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
          "timestamp": "1749416383",
          "type": "text",
          "text": {"body": "Does it come in another color?"}
        }]
      },
      "field": "messages"
    }]
  }]
})";
  const auto w = expect_ok(normalize_whatsapp(body, our_account));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_TRUE(w.statuses.empty());
  EXPECT_TRUE(w.system_errors.empty());
  EXPECT_EQ(w.ignored, 0u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.provider_message_id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
  EXPECT_EQ(m.account_id, "106540352242922");
  EXPECT_EQ(m.external_id, "16505551234");
  EXPECT_EQ(m.display_name, "Sheena Nelson");
  EXPECT_EQ(m.phone_e164, "+16505551234");
  EXPECT_EQ(m.email, "");
  EXPECT_EQ(m.timestamp_ms, 1749416383000);
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.text, "Does it come in another color?");
  EXPECT_EQ(m.details_json, "{}");
  EXPECT_EQ(m.reply_to, "");
  EXPECT_FALSE(m.outbound_echo);
  EXPECT_FALSE(m.edited);
}

TEST(WhatsAppNormalize, NumericTimestampAndReplyContext) {
  const auto m = single_message(
      R"([{"from":"16505551234","id":"wamid.B","timestamp":1749416383,"type":"text","text":{"body":"yes"},)"
      R"("context":{"from":"15550783881","id":"wamid.OUTBOUND1"}}])");
  EXPECT_EQ(m.timestamp_ms, 1749416383000);
  EXPECT_EQ(m.reply_to, "wamid.OUTBOUND1");
}

TEST(WhatsAppNormalize, AdReferralIsKeptBesideTheKind) {
  const auto m = single_message(
      R"([{"from":"16505551234","id":"wamid.AD","timestamp":"1","type":"text","text":{"body":"Info please"},)"
      R"("referral":{"source_url":"https://fb.me/abc","source_id":"120","source_type":"ad","headline":"Sale"}}])");
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.details_json, R"({"referral":{"source_url":"https://fb.me/abc","source_id":"120","source_type":"ad","headline":"Sale"}})");
}

TEST(WhatsAppNormalize, ImageWithCaption) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.IMG","timestamp":"1749416383","type":"image",
      "image":{"caption":"Look \"here\"","mime_type":"image/jpeg","sha256":"HgwDRfk8lqT/Y1zlr2wTqM5h8xQcLXyXXT7+AuMwLsk=","id":"1003383421387256"}}])");
  EXPECT_EQ(m.kind, message_kind::image);
  EXPECT_EQ(m.text, "Look \"here\"");
  EXPECT_EQ(m.details_json,
            R"({"media":{"id":"1003383421387256","mime_type":"image/jpeg","sha256":"HgwDRfk8lqT/Y1zlr2wTqM5h8xQcLXyXXT7+AuMwLsk=","caption":"Look \"here\""}})");
}

TEST(WhatsAppNormalize, DocumentWithFilenameAndNoCaption) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.DOC","timestamp":"1749416383","type":"document",
      "document":{"filename":"invoice.pdf","mime_type":"application/pdf","sha256":"abc=","id":"555"}}])");
  EXPECT_EQ(m.kind, message_kind::document);
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.details_json, R"({"media":{"id":"555","mime_type":"application/pdf","sha256":"abc=","filename":"invoice.pdf"}})");
}

TEST(WhatsAppNormalize, AudioVideoStickerKinds) {
  const auto audio = single_message(R"([{"from":"16505551234","id":"a","timestamp":"1","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","id":"1"}}])");
  EXPECT_EQ(audio.kind, message_kind::audio);
  EXPECT_EQ(audio.details_json, R"({"media":{"id":"1","mime_type":"audio/ogg; codecs=opus"}})");
  const auto video = single_message(R"([{"from":"16505551234","id":"v","timestamp":"1","type":"video","video":{"id":"2","mime_type":"video/mp4"}}])");
  EXPECT_EQ(video.kind, message_kind::video);
  const auto sticker = single_message(R"([{"from":"16505551234","id":"s","timestamp":"1","type":"sticker","sticker":{"mime_type":"image/webp","animated":false,"id":"3"}}])");
  EXPECT_EQ(sticker.kind, message_kind::sticker);
  EXPECT_EQ(sticker.details_json, R"({"media":{"id":"3","mime_type":"image/webp"}})");
  EXPECT_FALSE(sticker.text);
}

TEST(WhatsAppNormalize, Location) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.LOC","timestamp":"1749416383","type":"location",
      "location":{"address":"1 Hacker Way, Menlo Park, CA 94025","latitude":37.483307,"longitude":-122.148981,"name":"Main Campus","url":"https://example.com"}}])");
  EXPECT_EQ(m.kind, message_kind::location);
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.details_json,
            R"({"location":{"latitude":37.483307,"longitude":-122.148981,"name":"Main Campus","address":"1 Hacker Way, Menlo Park, CA 94025"}})");
}

TEST(WhatsAppNormalize, ContactsKeepRawArray) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.CON","timestamp":"1749416383","type":"contacts",
      "contacts":[{"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara"},
                   "phones":[{"phone":"+1 (940) 555-1234","type":"HOME","wa_id":"19405551234"}]}]}])");
  EXPECT_EQ(m.kind, message_kind::contacts);
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.details_json,
            R"({"contacts":[{"name":{"formatted_name":"Barbara J. Johnson","first_name":"Barbara"},"phones":[{"phone":"+1 (940) 555-1234","type":"HOME","wa_id":"19405551234"}]}]})");
}

TEST(WhatsAppNormalize, InteractiveButtonReply) {
  const auto m = single_message(R"([{"context":{"from":"15550783881","id":"wamid.Q"},"from":"16505551234","id":"wamid.IB",
      "timestamp":"1749416383","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes-btn","title":"Yes"}}}])");
  EXPECT_EQ(m.kind, message_kind::interactive);
  EXPECT_EQ(m.text, "Yes");
  EXPECT_EQ(m.reply_to, "wamid.Q");
  EXPECT_EQ(m.details_json, R"({"interactive":{"type":"button_reply","id":"yes-btn","title":"Yes"}})");
}

TEST(WhatsAppNormalize, InteractiveListReply) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.IL","timestamp":"1749416383","type":"interactive",
      "interactive":{"type":"list_reply","list_reply":{"id":"priority_express","title":"Express Shipping","description":"Next Day to 2 Days"}}}])");
  EXPECT_EQ(m.kind, message_kind::interactive);
  EXPECT_EQ(m.text, "Express Shipping");
  EXPECT_EQ(m.details_json, R"({"interactive":{"type":"list_reply","id":"priority_express","title":"Express Shipping"}})");
}

TEST(WhatsAppNormalize, QuickReplyButton) {
  const auto m = single_message(R"([{"context":{"from":"15550783881","id":"wamid.TPL"},"from":"16505551234","id":"wamid.BTN",
      "timestamp":"1749416383","type":"button","button":{"payload":"STOP_PROMOS","text":"Stop promotions"}}])");
  EXPECT_EQ(m.kind, message_kind::button);
  EXPECT_EQ(m.text, "Stop promotions");
  EXPECT_EQ(m.reply_to, "wamid.TPL");
  EXPECT_EQ(m.details_json, R"({"button":{"text":"Stop promotions","payload":"STOP_PROMOS"}})");
}

TEST(WhatsAppNormalize, Reaction) {
  const auto m = single_message(R"([{"from":"16505551234","id":"wamid.REACT","timestamp":"1749416383","type":"reaction",
      "reaction":{"message_id":"wamid.OUT","emoji":"\uD83D\uDE00"}}])");
  EXPECT_EQ(m.kind, message_kind::reaction);
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.details_json, "{\"reaction\":{\"message_id\":\"wamid.OUT\",\"emoji\":\"\xF0\x9F\x98\x80\"}}");
}

TEST(WhatsAppNormalize, UnknownAndNewTypesAreUnsupported) {
  const auto unknown = single_message(R"([{"from":"16505551234","id":"wamid.UNK","timestamp":"1749416383","type":"unknown",
      "errors":[{"code":131051,"details":"Message type is not currently supported","title":"Unsupported message type"}]}])");
  EXPECT_EQ(unknown.kind, message_kind::unsupported);
  EXPECT_FALSE(unknown.text);
  EXPECT_EQ(unknown.details_json, R"({"unsupported":{"type":"unknown"}})");
  const auto future = single_message(R"([{"from":"16505551234","id":"wamid.NEW","timestamp":"1749416383","type":"hologram","hologram":{}}])");
  EXPECT_EQ(future.kind, message_kind::unsupported);
  EXPECT_EQ(future.details_json, R"({"unsupported":{"type":"hologram"}})");
}

TEST(WhatsAppNormalize, MultipleMessagesAndDisplayNamePerSender) {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
    "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
    "contacts":[{"profile":{"name":"Ana"},"wa_id":"4915112345678"},{"profile":{"name":"Bo"},"wa_id":"447700900123"}],
    "messages":[
      {"from":"4915112345678","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"Hallo"}},
      {"from":"447700900123","id":"wamid.2","timestamp":"1700000001","type":"text","text":{"body":"Hi"}},
      {"from":"5511987654321","id":"wamid.3","timestamp":"1700000002","type":"text","text":{"body":"Oi"}}]}}]}]})";
  const auto w = expect_ok(normalize_whatsapp(body, any_account));
  ASSERT_EQ(w.messages.size(), 3u);
  EXPECT_EQ(w.messages[0].display_name, "Ana");
  EXPECT_EQ(w.messages[0].phone_e164, "+4915112345678");
  EXPECT_EQ(w.messages[1].display_name, "Bo");
  EXPECT_EQ(w.messages[1].phone_e164, "+447700900123");
  EXPECT_EQ(w.messages[1].timestamp_ms, 1700000001000);
  EXPECT_EQ(w.messages[2].display_name, "");  // not in contacts[]
  EXPECT_EQ(w.messages[2].phone_e164, "+5511987654321");
  EXPECT_EQ(w.messages[2].text, "Oi");
}

TEST(WhatsAppNormalize, ImplausibleFromKeepsExternalIdButNoPhone) {
  const auto m = single_message(R"([{"from":"1234","id":"wamid.S","timestamp":"1","type":"text","text":{"body":"x"}}])");
  EXPECT_EQ(m.external_id, "1234");
  EXPECT_EQ(m.phone_e164, "");
}

TEST(WhatsAppNormalize, StatusesSentDeliveredReadAndUnknownIgnored) {
  const std::string_view body = R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
    "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
    "statuses":[
      {"id":"wamid.OUT1","status":"sent","timestamp":"1750263773","recipient_id":"16505551234",
       "conversation":{"id":"CONV","origin":{"type":"service"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"service"}},
      {"id":"wamid.OUT1","status":"delivered","timestamp":"1750263774","recipient_id":"16505551234"},
      {"id":"wamid.OUT1","status":"read","timestamp":"1750263775","recipient_id":"16505551234"},
      {"id":"wamid.OUT1","status":"deleted","timestamp":"1750263776","recipient_id":"16505551234"}]}}]}]})";
  const auto w = expect_ok(normalize_whatsapp(body, our_account));
  EXPECT_TRUE(w.messages.empty());
  ASSERT_EQ(w.statuses.size(), 3u);
  EXPECT_EQ(w.ignored, 1u);
  const delivery_status expected[] = {delivery_status::sent, delivery_status::delivered, delivery_status::read};
  for (std::size_t i = 0; i < 3; ++i) {
    const inbound_status& s = w.statuses[i];
    EXPECT_EQ(s.provider_message_id, "wamid.OUT1");
    EXPECT_EQ(s.account_id, "106540352242922");
    EXPECT_EQ(s.recipient_id, "16505551234");
    EXPECT_EQ(s.status, expected[i]);
    EXPECT_EQ(s.timestamp_ms, 1750263773000 + 1000 * static_cast<std::int64_t>(i));
    EXPECT_EQ(s.watermark_ms, 0);
    EXPECT_EQ(s.error_code, "");
    EXPECT_EQ(s.error_message, "");
  }
}

TEST(WhatsAppNormalize, FailedStatusCarriesFirstError) {
  const std::string_view body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
    "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
    "statuses":[
      {"id":"wamid.F1","status":"failed","timestamp":"1750263773","recipient_id":"16505551234",
       "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message detail",
                  "error_data":{"details":"Message failed to send because more than 24 hours have passed"}}]},
      {"id":"wamid.F2","status":"failed","timestamp":"1750263774","recipient_id":"16505551234",
       "errors":[{"code":131026,"title":"Message undeliverable"}]}]}}]}]})";
  const auto w = expect_ok(normalize_whatsapp(body, our_account));
  ASSERT_EQ(w.statuses.size(), 2u);
  EXPECT_EQ(w.statuses[0].status, delivery_status::failed);
  EXPECT_EQ(w.statuses[0].provider_message_id, "wamid.F1");
  EXPECT_EQ(w.statuses[0].error_code, "131047");
  EXPECT_EQ(w.statuses[0].error_message, "Re-engagement message detail");
  EXPECT_EQ(w.statuses[1].error_code, "131026");
  EXPECT_EQ(w.statuses[1].error_message, "Message undeliverable");  // no message: title
}

TEST(WhatsAppNormalize, SystemErrors) {
  const std::string_view body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
    "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
    "errors":[{"code":131000,"title":"Something went wrong","message":"Something went wrong","error_data":{"details":"x"}},
              {"code":368,"title":"Temporarily blocked for policies violations"}]}}]}]})";
  const auto w = expect_ok(normalize_whatsapp(body, our_account));
  EXPECT_TRUE(w.messages.empty());
  EXPECT_TRUE(w.statuses.empty());
  ASSERT_EQ(w.system_errors.size(), 2u);
  EXPECT_EQ(w.system_errors[0], "131000 Something went wrong");
  EXPECT_EQ(w.system_errors[1], "368 Temporarily blocked for policies violations");
}

TEST(WhatsAppNormalize, ForeignPhoneNumberIdIsIgnored) {
  const auto w = expect_ok(normalize_whatsapp(
      with_messages(R"([{"from":"16505551234","id":"wamid.X","timestamp":"1","type":"text","text":{"body":"x"}}])", "999999999"),
      our_account));
  EXPECT_TRUE(w.messages.empty());
  EXPECT_EQ(w.ignored, 1u);
  // An empty account list accepts every phone number id.
  const auto all = expect_ok(normalize_whatsapp(
      with_messages(R"([{"from":"16505551234","id":"wamid.X","timestamp":"1","type":"text","text":{"body":"x"}}])", "999999999"),
      any_account));
  ASSERT_EQ(all.messages.size(), 1u);
  EXPECT_EQ(all.messages[0].account_id, "999999999");
}

TEST(WhatsAppNormalize, OtherChangeFieldsAreIgnoredMixedWithMessages) {
  const std::string_view body = R"({"object":"whatsapp_business_account","entry":[
    {"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]},
    {"id":"2","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
      "metadata":{"display_phone_number":"1","phone_number_id":"106540352242922"},
      "messages":[{"from":"16505551234","id":"wamid.M","timestamp":"1","type":"text","text":{"body":"hey"}}]}}]}]})";
  const auto w = expect_ok(normalize_whatsapp(body, our_account));
  EXPECT_EQ(w.ignored, 1u);
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].provider_message_id, "wamid.M");
}

TEST(WhatsAppNormalize, MalformedBodiesAreInvalidArgument) {
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"({"object":"whatsapp_business_account","entry":[)", any_account)), "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_whatsapp("", any_account)), "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"([{"object":"whatsapp_business_account"}])", any_account)),
            "body must be a JSON object");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"({"object":"page","entry":[]})", any_account)),
            "object must be whatsapp_business_account");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"({"object":"whatsapp_business_account"})", any_account)),
            "entry must be an array");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"({"object":"whatsapp_business_account","entry":{}})", any_account)),
            "entry must be an array");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(R"({"object":"whatsapp_business_account","entry":[{"id":"1"}]})", any_account)),
            "entry[].changes must be an array");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(with_messages(R"({"from":"1"})"), any_account)), "messages must be an array");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(with_messages(R"([{"id":"wamid.X","type":"text"}])"), any_account)),
            "messages[].from must be a non-empty string");
}

TEST(WhatsAppNormalize, EmptyEntryListIsValid) {
  const auto w = expect_ok(normalize_whatsapp(R"({"object":"whatsapp_business_account","entry":[]})", any_account));
  EXPECT_TRUE(w.messages.empty());
  EXPECT_EQ(w.ignored, 0u);
}

TEST(WhatsAppNormalize, ErrorMessagesNeverQuoteTheBody) {
  const auto r = normalize_whatsapp(R"({"object":"secret-token-value","entry":[]})", any_account);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message.find("secret-token-value"), std::string::npos);
}

// Found by fuzzing: an empty id would become the dedup key of every such message, an
// empty sender would merge unrelated customers.
TEST(WhatsAppNormalize, EmptyIdsAreRefused) {
  EXPECT_EQ(expect_invalid(normalize_whatsapp(with_messages(R"([{"from":"","id":"wamid.1","type":"text","text":{"body":"hi"}}])"), any_account)),
            "messages[].from must be a non-empty string");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(with_messages(R"([{"from":"1555","id":"","type":"text","text":{"body":"hi"}}])"), any_account)),
            "messages[].id must be a non-empty string");
  EXPECT_EQ(expect_invalid(normalize_whatsapp(
                R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"statuses":[{"id":"","status":"delivered","recipient_id":"1"}]}}]}]})",
                any_account)),
            "statuses[].id must be a non-empty string");
}

}  // namespace
}  // namespace parley::engine::providers
