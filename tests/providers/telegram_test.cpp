#include <gtest/gtest.h>

#include "normalize_test_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using testing::expect_invalid;
using testing::expect_ok;

inbound_message single(std::string_view body) {
  const auto w = expect_ok(normalize_telegram(body));
  EXPECT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.ignored, 0u);
  EXPECT_TRUE(w.statuses.empty());
  return w.messages.empty() ? inbound_message{} : w.messages[0];
}

TEST(TelegramNormalize, TextMessageMapsEveryField) {
  const auto m = single(R"({
  "update_id": 10000,
  "message": {
    "message_id": 1365,
    "from": {"id": 1111111, "is_bot": false, "first_name": "Ana", "last_name": "Lima", "username": "analima", "language_code": "pt-br"},
    "chat": {"id": 1111111, "first_name": "Ana", "last_name": "Lima", "username": "analima", "type": "private"},
    "date": 1441645532,
    "text": "/start"
  }
})");
  EXPECT_EQ(m.provider_message_id, "10000");
  EXPECT_EQ(m.account_id, "");
  EXPECT_EQ(m.external_id, "1111111");
  EXPECT_EQ(m.display_name, "Ana Lima");
  EXPECT_EQ(m.phone_e164, "");
  EXPECT_EQ(m.email, "");
  EXPECT_EQ(m.timestamp_ms, 1441645532000);
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.text, "/start");
  EXPECT_EQ(m.details_json, R"({"chat":{"id":1111111,"type":"private"},"message_id":1365})");
  EXPECT_EQ(m.reply_to, "");
  EXPECT_FALSE(m.outbound_echo);
  EXPECT_FALSE(m.edited);
}

TEST(TelegramNormalize, GroupMessageUsesSenderAndReplyTo) {
  const auto m = single(R"({"update_id":10001,"message":{"message_id":77,"from":{"id":42,"is_bot":false,"first_name":"Bo"},
    "chat":{"id":-1001234567890,"title":"Team","type":"supergroup"},"date":1441645533,"text":"see above",
    "reply_to_message":{"message_id":70,"from":{"id":99,"is_bot":true,"first_name":"ParleyBot"},"chat":{"id":-1001234567890,"type":"supergroup"},"date":1,"text":"q"}}})");
  EXPECT_EQ(m.external_id, "42");
  EXPECT_EQ(m.display_name, "Bo");
  EXPECT_EQ(m.reply_to, "70");
  EXPECT_EQ(m.details_json, R"({"chat":{"id":-1001234567890,"type":"supergroup"},"message_id":77})");
}

TEST(TelegramNormalize, WithoutFromUsesChatId) {
  const auto m = single(R"({"update_id":3,"message":{"message_id":1,"chat":{"id":-100500,"type":"channel"},"date":5,"text":"x"}})");
  EXPECT_EQ(m.external_id, "-100500");
  EXPECT_EQ(m.display_name, "");
}

TEST(TelegramNormalize, EditedMessage) {
  const auto m = single(R"({"update_id":10002,"edited_message":{"message_id":1365,"from":{"id":1111111,"is_bot":false,"first_name":"Ana"},
    "chat":{"id":1111111,"type":"private"},"date":1441645532,"edit_date":1441645600,"text":"/start please"}})");
  EXPECT_TRUE(m.edited);
  EXPECT_EQ(m.provider_message_id, "10002");
  EXPECT_EQ(m.kind, message_kind::text);
  EXPECT_EQ(m.text, "/start please");
  EXPECT_EQ(m.timestamp_ms, 1441645532000);
  EXPECT_EQ(m.details_json, R"({"chat":{"id":1111111,"type":"private"},"message_id":1365})");
}

TEST(TelegramNormalize, CallbackQuery) {
  const auto m = single(R"({"update_id":10003,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":1111111,"is_bot":false,"first_name":"Ana","last_name":"Lima"},
    "message":{"message_id":1400,"from":{"id":99,"is_bot":true,"first_name":"ParleyBot"},"chat":{"id":1111111,"type":"private"},"date":1441645540,"text":"Pick one"},
    "chat_instance":"-123","data":"color:red"}})");
  EXPECT_EQ(m.provider_message_id, "10003");
  EXPECT_EQ(m.kind, message_kind::interactive);
  EXPECT_EQ(m.external_id, "1111111");
  EXPECT_EQ(m.display_name, "Ana Lima");
  EXPECT_EQ(m.text, "color:red");
  EXPECT_EQ(m.timestamp_ms, 1441645540000);
  EXPECT_EQ(m.reply_to, "1400");
  EXPECT_EQ(m.details_json,
            R"({"chat":{"id":1111111,"type":"private"},"interactive":{"type":"callback_query","id":"4382bfdwdsb323b2d9","data":"color:red"}})");
}

TEST(TelegramNormalize, CallbackQueryWithoutMessageHasZeroTimestamp) {
  const auto m = single(R"({"update_id":10004,"callback_query":{"id":"q1","from":{"id":5,"is_bot":false,"first_name":"C"},
    "inline_message_id":"abc","chat_instance":"1","data":"go"}})");
  EXPECT_EQ(m.timestamp_ms, 0);
  EXPECT_EQ(m.details_json, R"({"interactive":{"type":"callback_query","id":"q1","data":"go"}})");
}

TEST(TelegramNormalize, PhotoWithCaptionTakesLargestSize) {
  const auto m = single(R"({"update_id":10005,"message":{"message_id":2,"from":{"id":5,"is_bot":false,"first_name":"C"},
    "chat":{"id":5,"type":"private"},"date":1700000000,"caption":"my cat",
    "photo":[{"file_id":"small","file_unique_id":"s","file_size":1000,"width":90,"height":60},
             {"file_id":"large","file_unique_id":"l","file_size":90000,"width":1280,"height":853}]}})");
  EXPECT_EQ(m.kind, message_kind::image);
  EXPECT_EQ(m.text, "my cat");
  EXPECT_EQ(m.details_json, R"({"chat":{"id":5,"type":"private"},"message_id":2,"media":{"file_id":"large","caption":"my cat"}})");
}

TEST(TelegramNormalize, MediaKinds) {
  auto kind_and_details = [](std::string_view content) {
    const auto m = single(R"({"update_id":1,"message":{"message_id":3,"from":{"id":5,"is_bot":false,"first_name":"C"},"chat":{"id":5,"type":"private"},"date":1,)" +
                          std::string(content) + "}}");
    return std::pair(m.kind, m.details_json);
  };
  EXPECT_EQ(kind_and_details(R"("document":{"file_name":"a.pdf","mime_type":"application/pdf","file_id":"D1","file_unique_id":"u"})"),
            std::pair(message_kind::document, std::string(R"({"chat":{"id":5,"type":"private"},"message_id":3,"media":{"file_id":"D1","mime_type":"application/pdf","file_name":"a.pdf"}})")));
  EXPECT_EQ(kind_and_details(R"("voice":{"duration":2,"mime_type":"audio/ogg","file_id":"V1"})").first, message_kind::audio);
  EXPECT_EQ(kind_and_details(R"("audio":{"duration":200,"file_id":"A1"})").first, message_kind::audio);
  EXPECT_EQ(kind_and_details(R"("video":{"duration":20,"file_id":"VID"})").first, message_kind::video);
  EXPECT_EQ(kind_and_details(R"("sticker":{"file_id":"ST","emoji":"👍","is_animated":false})"),
            std::pair(message_kind::sticker, std::string(R"({"chat":{"id":5,"type":"private"},"message_id":3,"media":{"file_id":"ST","emoji":"👍"}})")));
  EXPECT_EQ(kind_and_details(R"("location":{"latitude":52.520008,"longitude":13.404954})"),
            std::pair(message_kind::location, std::string(R"({"chat":{"id":5,"type":"private"},"message_id":3,"location":{"latitude":52.520008,"longitude":13.404954}})")));
  EXPECT_EQ(kind_and_details(R"("poll":{"id":"1","question":"?","options":[]})"),
            std::pair(message_kind::unsupported, std::string(R"({"chat":{"id":5,"type":"private"},"message_id":3,"unsupported":{"type":"poll"}})")));
  EXPECT_EQ(kind_and_details(R"("dice":{"emoji":"🎲","value":4})").first, message_kind::unsupported);
}

TEST(TelegramNormalize, OwnContactGivesPhone) {
  const auto m = single(R"({"update_id":10006,"message":{"message_id":4,"from":{"id":1111111,"is_bot":false,"first_name":"Ana"},
    "chat":{"id":1111111,"type":"private"},"date":1700000000,
    "contact":{"phone_number":"5511987654321","first_name":"Ana","last_name":"Lima","user_id":1111111}}})");
  EXPECT_EQ(m.kind, message_kind::contacts);
  EXPECT_FALSE(m.text);
  EXPECT_EQ(m.phone_e164, "+5511987654321");
  EXPECT_EQ(m.details_json,
            R"({"chat":{"id":1111111,"type":"private"},"message_id":4,"contact":{"phone_number":"5511987654321","first_name":"Ana","last_name":"Lima","user_id":1111111}})");
}

TEST(TelegramNormalize, SomeoneElsesContactGivesNoPhone) {
  const auto m = single(R"({"update_id":10007,"message":{"message_id":5,"from":{"id":1111111,"is_bot":false,"first_name":"Ana"},
    "chat":{"id":1111111,"type":"private"},"date":1700000000,"contact":{"phone_number":"+44 7700 900123","first_name":"Bo","user_id":222}}})");
  EXPECT_EQ(m.kind, message_kind::contacts);
  EXPECT_EQ(m.phone_e164, "");
  const auto no_user = single(R"({"update_id":10008,"message":{"message_id":6,"from":{"id":1111111,"is_bot":false,"first_name":"Ana"},
    "chat":{"id":1111111,"type":"private"},"date":1700000000,"contact":{"phone_number":"+44 7700 900123","first_name":"Bo"}}})");
  EXPECT_EQ(no_user.phone_e164, "");
}

TEST(TelegramNormalize, OtherUpdateKindsAreIgnored) {
  for (std::string_view body : {
           std::string_view(R"({"update_id":20000,"channel_post":{"message_id":1,"chat":{"id":-1,"type":"channel"},"date":1,"text":"x"}})"),
           std::string_view(R"({"update_id":20001,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":1,"is_bot":false,"first_name":"A"},"date":1}})"),
           std::string_view(R"({"update_id":20002})")}) {
    const auto w = expect_ok(normalize_telegram(body));
    EXPECT_TRUE(w.messages.empty());
    EXPECT_TRUE(w.statuses.empty());
    EXPECT_EQ(w.ignored, 1u);
  }
}

TEST(TelegramNormalize, MalformedBodiesAreInvalidArgument) {
  EXPECT_EQ(expect_invalid(normalize_telegram(R"({"update_id":1,"message":{)")), "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_telegram(R"([1,2])")), "body must be a JSON object");
  EXPECT_EQ(expect_invalid(normalize_telegram(R"({"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1,"text":"x"}})")),
            "update_id must be an integer");
  EXPECT_EQ(expect_invalid(normalize_telegram(R"({"update_id":"1","message":{}})")), "update_id must be an integer");
  EXPECT_EQ(expect_invalid(normalize_telegram(R"({"update_id":1,"message":{"message_id":1,"date":1,"text":"x"}})")),
            "message.chat.id must be an integer");
  EXPECT_EQ(expect_invalid(normalize_telegram(R"({"update_id":1,"callback_query":{"id":"q","data":"x"}})")),
            "callback_query.from.id must be an integer");
}

}  // namespace
}  // namespace parley::engine::providers
