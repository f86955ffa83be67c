#include <gtest/gtest.h>

#include "normalize_test_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using testing::expect_invalid;
using testing::expect_ok;

const std::vector<std::string> page{"1234567890"};

/// A "page" webhook with one entry for page 1234567890 holding `events_json`.
std::string page_body(std::string_view events_json, std::string_view page_id = "1234567890") {
  return R"({"object":"page","entry":[{"id":")" + std::string(page_id) + R"(","time":1458692752478,"messaging":)" +
         std::string(events_json) + "}]}";
}

TEST(MessengerNormalize, TextMessageMapsEveryField) {
  const std::string_view body = R"({
  "object": "page",
  "entry": [{
    "id": "1234567890",
    "time": 1458692752478,
    "messaging": [{
      "sender": {"id": "6783456789012345"},
      "recipient": {"id": "1234567890"},
      "timestamp": 1458692752478,
      "message": {"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P", "text": "hello, world!"}
    }]
  }]
})";
  const auto w = expect_ok(normalize_messenger(body, channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_TRUE(w.statuses.empty());
  EXPECT_EQ(w.ignored, 0u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.provider_message_id, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P");
  EXPECT_EQ(m.account_id, "1234567890");
  EXPECT_EQ(m.external_id, "6783456789012345");
  EXPECT_EQ(m.display_name, "");
  EXPECT_EQ(m.phone_e164, "");
  EXPECT_EQ(m.timestamp_ms, 1458692752478);
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.text, "hello, world!");
  EXPECT_EQ(m.details_json, "{}");
  EXPECT_EQ(m.reply_to, "");
  EXPECT_FALSE(m.outbound_echo);
  EXPECT_FALSE(m.edited);
}

TEST(MessengerNormalize, ImageAttachment) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1458692752478,
      "message":{"mid":"m_img","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/a.jpg?x=1&y=2"}}]}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].kind, message_kind::image);
  EXPECT_FALSE(w.messages[0].text);
  EXPECT_EQ(w.messages[0].details_json, R"({"attachments":[{"type":"image","url":"https://scontent.xx.fbcdn.net/v/a.jpg?x=1&y=2"}]})");
}

TEST(MessengerNormalize, AttachmentKindsFromFirstAttachment) {
  auto kind_of = [](std::string_view attachments) {
    const auto w = expect_ok(normalize_messenger(
        page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1,"message":{"mid":"m","attachments":)" +
                  std::string(attachments) + "}}]"),
        channel_type::messenger, page));
    return w.messages.empty() ? message_kind::text : w.messages[0].kind;
  };
  EXPECT_EQ(kind_of(R"([{"type":"file","payload":{"url":"u"}},{"type":"image","payload":{"url":"v"}}])"), message_kind::document);
  EXPECT_EQ(kind_of(R"([{"type":"video","payload":{"url":"u"}}])"), message_kind::video);
  EXPECT_EQ(kind_of(R"([{"type":"audio","payload":{"url":"u"}}])"), message_kind::audio);
  EXPECT_EQ(kind_of(R"([{"type":"image","payload":{"url":"u","sticker_id":369239263222822}}])"), message_kind::sticker);
  EXPECT_EQ(kind_of(R"([{"type":"location","payload":{"coordinates":{"lat":1,"long":2}}}])"), message_kind::location);
  EXPECT_EQ(kind_of(R"([{"type":"fallback","payload":{"url":"u","title":"t"}}])"), message_kind::unsupported);
  EXPECT_EQ(kind_of(R"([{"type":"ig_reel","payload":{"reel_video_id":"1"}}])"), message_kind::unsupported);
}

TEST(MessengerNormalize, QuickReplyIsTextWithPayload) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1458692752478,
      "message":{"mid":"m_qr","text":"Red","quick_reply":{"payload":"PICK_RED"}}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].kind, message_kind::text);
  EXPECT_EQ(w.messages[0].text, "Red");
  EXPECT_EQ(w.messages[0].details_json, R"({"quick_reply":{"payload":"PICK_RED"}})");
}

TEST(MessengerNormalize, EchoIsOutboundToTheCustomer) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"1234567890"},"recipient":{"id":"678"},"timestamp":1458692752478,
      "message":{"is_echo":true,"app_id":1517776481860111,"metadata":"m","mid":"m_echo","text":"Thanks for reaching out"}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  const inbound_message& m = w.messages[0];
  EXPECT_TRUE(m.outbound_echo);
  EXPECT_EQ(m.external_id, "678");
  EXPECT_EQ(m.account_id, "1234567890");
  EXPECT_EQ(m.provider_message_id, "m_echo");
  EXPECT_EQ(m.text, "Thanks for reaching out");
}

TEST(MessengerNormalize, ReplyToMid) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1,
      "message":{"mid":"m_r","text":"this one","reply_to":{"mid":"m_original"}}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].reply_to, "m_original");
}

TEST(MessengerNormalize, DeliveryWithMidsAndWatermark) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1458668856463,
      "delivery":{"mids":["mid.1458668856218:ed81099e15d3f4f233","mid.1458668856219:aaaa"],"watermark":1458668856253}}])"),
                                              channel_type::messenger, page));
  EXPECT_TRUE(w.messages.empty());
  ASSERT_EQ(w.statuses.size(), 3u);
  EXPECT_EQ(w.statuses[0].provider_message_id, "mid.1458668856218:ed81099e15d3f4f233");
  EXPECT_EQ(w.statuses[1].provider_message_id, "mid.1458668856219:aaaa");
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(w.statuses[i].status, delivery_status::delivered);
    EXPECT_EQ(w.statuses[i].watermark_ms, 0);
    EXPECT_EQ(w.statuses[i].recipient_id, "678");
    EXPECT_EQ(w.statuses[i].account_id, "1234567890");
    EXPECT_EQ(w.statuses[i].timestamp_ms, 1458668856463);
  }
  const inbound_status& wm = w.statuses[2];
  EXPECT_EQ(wm.provider_message_id, "");
  EXPECT_EQ(wm.status, delivery_status::delivered);
  EXPECT_EQ(wm.watermark_ms, 1458668856253);
  EXPECT_EQ(wm.recipient_id, "678");
  EXPECT_EQ(wm.timestamp_ms, 1458668856463);
}

TEST(MessengerNormalize, DeliveryWithWatermarkOnly) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":5,
      "delivery":{"watermark":1458668856253}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.statuses.size(), 1u);
  EXPECT_EQ(w.statuses[0].watermark_ms, 1458668856253);
}

TEST(MessengerNormalize, ReadWatermark) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1458668856463,
      "read":{"watermark":1458668856253}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.statuses.size(), 1u);
  const inbound_status& s = w.statuses[0];
  EXPECT_EQ(s.status, delivery_status::read);
  EXPECT_EQ(s.provider_message_id, "");
  EXPECT_EQ(s.watermark_ms, 1458668856253);
  EXPECT_EQ(s.recipient_id, "678");
  EXPECT_EQ(s.account_id, "1234567890");
  EXPECT_EQ(s.timestamp_ms, 1458668856463);
}

TEST(MessengerNormalize, Reaction) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1458668856463,
      "reaction":{"reaction":"love","emoji":"\u2764\uFE0F","action":"react","mid":"m_target"}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.kind, message_kind::reaction);
  EXPECT_EQ(m.provider_message_id, "reaction:m_target:react:1458668856463");
  EXPECT_EQ(m.external_id, "678");
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.details_json, "{\"reaction\":{\"message_id\":\"m_target\",\"action\":\"react\",\"emoji\":\"\xE2\x9D\xA4\xEF\xB8\x8F\"}}");
}

TEST(MessengerNormalize, UnreactWithoutEmoji) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":7,
      "reaction":{"action":"unreact","mid":"m_target"}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].provider_message_id, "reaction:m_target:unreact:7");
  EXPECT_EQ(w.messages[0].details_json, R"({"reaction":{"message_id":"m_target","action":"unreact"}})");
}

TEST(MessengerNormalize, PostbackWithAndWithoutMid) {
  const auto w = expect_ok(normalize_messenger(page_body(R"([
      {"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1527459824,
       "postback":{"mid":"m_pb","title":"Get Started","payload":"GET_STARTED"}},
      {"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1527459825,
       "postback":{"title":"Menu","payload":"MENU"}}])"),
                                              channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 2u);
  EXPECT_EQ(w.messages[0].kind, message_kind::button);
  EXPECT_EQ(w.messages[0].text, "Get Started");
  EXPECT_EQ(w.messages[0].provider_message_id, "postback:m_pb");
  EXPECT_EQ(w.messages[0].details_json, R"({"postback":{"payload":"GET_STARTED"}})");
  EXPECT_EQ(w.messages[1].provider_message_id, "postback:678:1527459825");
  EXPECT_EQ(w.messages[1].timestamp_ms, 1527459825);
}

TEST(MessengerNormalize, OtherEventsAndForeignPagesAreIgnored) {
  const std::string body = R"({"object":"page","entry":[
    {"id":"1234567890","time":1,"messaging":[
      {"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":1,"referral":{"ref":"ad","source":"ADS"}},
      {"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":2,"optin":{"ref":"x"}},
      {"sender":{"id":"678"},"recipient":{"id":"1234567890"},"timestamp":3,"message":{"mid":"m_ok","text":"ok"}}]},
    {"id":"5555","time":1,"messaging":[
      {"sender":{"id":"679"},"recipient":{"id":"5555"},"timestamp":4,"message":{"mid":"m_other","text":"other page"}}]}]})";
  const auto w = expect_ok(normalize_messenger(body, channel_type::messenger, page));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].provider_message_id, "m_ok");
  EXPECT_EQ(w.ignored, 3u);
}

TEST(MessengerNormalize, InstagramObject) {
  const std::string_view body = R"({"object":"instagram","entry":[{"time":1569262486134,"id":"17841405822304914","messaging":[
    {"sender":{"id":"5432109876"},"recipient":{"id":"17841405822304914"},"timestamp":1569262485349,
     "message":{"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0","text":"Hi from IG"}}]}]})";
  const std::vector<std::string> ig{"17841405822304914"};
  const auto w = expect_ok(normalize_messenger(body, channel_type::instagram, ig));
  ASSERT_EQ(w.messages.size(), 1u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.provider_message_id, "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0");
  EXPECT_EQ(m.account_id, "17841405822304914");
  EXPECT_EQ(m.external_id, "5432109876");
  EXPECT_EQ(m.timestamp_ms, 1569262485349);
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.text, "Hi from IG");
  // The object must match the channel type, both ways.
  EXPECT_EQ(expect_invalid(normalize_messenger(body, channel_type::messenger, ig)), "object must be page");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body("[]"), channel_type::instagram, ig)), "object must be instagram");
}

TEST(MessengerNormalize, InstagramDeletedMessageIsUnsupported) {
  const std::string_view body = R"({"object":"instagram","entry":[{"time":1,"id":"178","messaging":[
    {"sender":{"id":"543"},"recipient":{"id":"178"},"timestamp":2,"message":{"mid":"m_del","is_deleted":true}}]}]})";
  const auto w = expect_ok(normalize_messenger(body, channel_type::instagram, {}));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].kind, message_kind::unsupported);
  EXPECT_EQ(w.messages[0].details_json, R"({"unsupported":{"type":"deleted"}})");
}

TEST(MessengerNormalize, MalformedBodiesAreInvalidArgument) {
  EXPECT_EQ(expect_invalid(normalize_messenger(R"({"object":"page","entry":[{"id":)", channel_type::messenger, page)),
            "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_messenger("[]", channel_type::messenger, page)), "body must be a JSON object");
  EXPECT_EQ(expect_invalid(normalize_messenger(R"({"object":"whatsapp_business_account","entry":[]})", channel_type::messenger, page)),
            "object must be page");
  EXPECT_EQ(expect_invalid(normalize_messenger(R"({"object":"page"})", channel_type::messenger, page)), "entry must be an array");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body(R"({"sender":{"id":"1"}})"), channel_type::messenger, page)),
            "entry[].messaging must be an array");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body(R"([{"recipient":{"id":"1"},"timestamp":1,"message":{"mid":"m"}}])"),
                                               channel_type::messenger, page)),
            "messaging[].sender.id must be a non-empty string");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body(R"([{"sender":{"id":"1"},"timestamp":1,"message":{"text":"no mid"}}])"),
                                               channel_type::messenger, page)),
            "message.mid must be a non-empty string");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body("[]"), channel_type::whatsapp, page)),
            "channel type must be messenger or instagram");
}

// Found by fuzzing: empty mids and echoes without a recipient are refused; empty mids
// in a delivery list are skipped.
TEST(MessengerNormalize, EmptyIdsAreRefusedOrSkipped) {
  const std::vector<std::string> any;
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body(R"([{"sender":{"id":"6"},"timestamp":1,"message":{"mid":"","text":"x"}}])"),
                                               channel_type::messenger, any)),
            "message.mid must be a non-empty string");
  EXPECT_EQ(expect_invalid(normalize_messenger(page_body(R"([{"sender":{"id":"1234567890"},"timestamp":1,"message":{"is_echo":true,"mid":"m","text":"x"}}])"),
                                               channel_type::messenger, any)),
            "an echo needs recipient.id");
  auto w = expect_ok(normalize_messenger(page_body(R"([{"sender":{"id":"6"},"timestamp":1,"delivery":{"mids":["",""],"watermark":5}}])"),
                                         channel_type::messenger, any));
  ASSERT_EQ(w.statuses.size(), 1u);
  EXPECT_EQ(w.statuses[0].watermark_ms, 5);
}

}  // namespace
}  // namespace parley::engine::providers
