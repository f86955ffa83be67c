#include <gtest/gtest.h>

#include "normalize_test_util.hpp"
#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

using testing::expect_invalid;
using testing::expect_ok;

constexpr std::string_view inbound_reply = R"({
  "FromName": "Postmarkapp Support",
  "MessageStream": "inbound",
  "From": "Support@Postmarkapp.com",
  "FromFull": {"Email": "Support@Postmarkapp.com", "Name": "Postmarkapp Support", "MailboxHash": ""},
  "To": "\"Firstname Lastname\" <yourhash+SampleHash@inbound.postmarkapp.com>",
  "ToFull": [{"Email": "yourhash+SampleHash@inbound.postmarkapp.com", "Name": "Firstname Lastname", "MailboxHash": "SampleHash"}],
  "Cc": "\"First Cc\" <firstcc@postmarkapp.com>, secondCc@postmarkapp.com",
  "CcFull": [{"Email": "firstcc@postmarkapp.com", "Name": "First Cc", "MailboxHash": ""}],
  "Bcc": "",
  "OriginalRecipient": "YourHash+SampleHash@inbound.postmarkapp.com",
  "Subject": "Re: Order #123 \"shipping\"",
  "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
  "ReplyTo": "replyto@postmarkapp.com",
  "MailboxHash": "SampleHash",
  "Date": "Fri, 1 Aug 2014 16:45:32 -0400",
  "TextBody": "Thanks, that works.\n\nOn Thu, Support wrote:\n> ...",
  "HtmlBody": "<p>Thanks, that works.</p>",
  "StrippedTextReply": "Thanks, that works.",
  "Tag": "TestTag",
  "Headers": [
    {"Name": "X-Header-Test", "Value": ""},
    {"Name": "Message-ID", "Value": "<CAHxhb1@mail.gmail.com>"},
    {"Name": "In-Reply-To", "Value": "<msg_abc123@parley.example>"},
    {"Name": "references", "Value": "<msg_root@parley.example> <msg_abc123@parley.example>"}
  ],
  "Attachments": [
    {"Name": "myimage.png", "Content": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", "ContentType": "image/png", "ContentLength": 4096},
    {"Name": "mypaper.doc", "Content": "UEsDBBQABgAIAAAAIQDb4fbL", "ContentType": "application/msword", "ContentLength": 16384}
  ]
})";

TEST(PostmarkInbound, ReplyWithThreadingHeadersAndAttachments) {
  const auto w = expect_ok(normalize_postmark_inbound(inbound_reply));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_TRUE(w.statuses.empty());
  EXPECT_EQ(w.ignored, 0u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.provider_message_id, "73e6d360-66eb-11e1-8e72-a8904824019b");
  EXPECT_EQ(m.account_id, "yourhash+samplehash@inbound.postmarkapp.com");
  EXPECT_EQ(m.external_id, "support@postmarkapp.com");
  EXPECT_EQ(m.email, "support@postmarkapp.com");
  EXPECT_EQ(m.display_name, "Postmarkapp Support");
  EXPECT_EQ(m.phone_e164, "");
  EXPECT_EQ(m.timestamp_ms, 1406925932000);
  EXPECT_EQ(m.kind, message_kind::email);
  EXPECT_EQ(m.text, "Thanks, that works.\n\nOn Thu, Support wrote:\n> ...");
  EXPECT_EQ(m.reply_to, "<msg_abc123@parley.example>");
  EXPECT_FALSE(m.outbound_echo);
  EXPECT_FALSE(m.edited);
  EXPECT_EQ(m.details_json,
            R"({"email":{"subject":"Re: Order #123 \"shipping\"","from":"Support@Postmarkapp.com",)"
            R"("to":"\"Firstname Lastname\" <yourhash+SampleHash@inbound.postmarkapp.com>",)"
            R"("cc":"\"First Cc\" <firstcc@postmarkapp.com>, secondCc@postmarkapp.com",)"
            R"("message_id":"<CAHxhb1@mail.gmail.com>","in_reply_to":"<msg_abc123@parley.example>",)"
            R"("references":"<msg_root@parley.example> <msg_abc123@parley.example>","mailbox_hash":"SampleHash",)"
            R"("attachments":[{"name":"myimage.png","content_type":"image/png","content_length":4096},)"
            R"({"name":"mypaper.doc","content_type":"application/msword","content_length":16384}],)"
            R"("html":"<p>Thanks, that works.</p>"}})");
  EXPECT_EQ(m.details_json.find("iVBORw0KGgo"), std::string::npos);  // attachment bytes never copied
}

TEST(PostmarkInbound, MinimalMessageFallbacks) {
  const auto w = expect_ok(normalize_postmark_inbound(R"({"From":"Jane <Jane.Doe@Example.org>","FromName":"","MessageID":"m-2",
    "ToFull":[{"Email":"Help@Acme.test","Name":"","MailboxHash":""}],"Subject":"","TextBody":"","StrippedTextReply":"short reply",
    "Date":"not a date","Headers":[],"Attachments":[],"Cc":""})"));
  ASSERT_EQ(w.messages.size(), 1u);
  const inbound_message& m = w.messages[0];
  EXPECT_EQ(m.external_id, "jane.doe@example.org");
  EXPECT_EQ(m.email, "jane.doe@example.org");
  EXPECT_EQ(m.account_id, "help@acme.test");
  EXPECT_EQ(m.display_name, "");
  EXPECT_EQ(m.timestamp_ms, 0);  // unparseable Date
  EXPECT_EQ(m.text, "short reply");
  EXPECT_EQ(m.reply_to, "");
  EXPECT_EQ(m.details_json, R"({"email":{"from":"Jane <Jane.Doe@Example.org>"}})");
}

TEST(PostmarkInbound, LargeHtmlStaysOutOfDetails) {
  std::string body = R"({"MessageID":"m-3","From":"a@b.c","TextBody":"t","HtmlBody":")";
  body.append(70 * 1024, 'x');
  body.append(R"("})");
  const auto w = expect_ok(normalize_postmark_inbound(body));
  ASSERT_EQ(w.messages.size(), 1u);
  EXPECT_EQ(w.messages[0].details_json, R"({"email":{"from":"a@b.c"}})");
}

TEST(PostmarkInbound, MalformedBodiesAreInvalidArgument) {
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"({"MessageID":)")), "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"(["MessageID"])")), "body must be a JSON object");
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"({"From":"a@b.c","TextBody":"hi"})")), "MessageID must be a string");
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"({"From":"a@b.c","MessageID":42})")), "MessageID must be a string");
}

TEST(PostmarkEvent, Delivery) {
  const auto w = expect_ok(normalize_postmark_event(R"({"RecordType":"Delivery","ServerID":23,"MessageStream":"outbound",
    "MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Recipient":"John@Example.com","Tag":"welcome-email",
    "DeliveredAt":"2019-11-05T16:33:54.9070259Z","Details":"Test delivery webhook details","Metadata":{"a_key":"a_value"}})"));
  EXPECT_TRUE(w.messages.empty());
  ASSERT_EQ(w.statuses.size(), 1u);
  const inbound_status& s = w.statuses[0];
  EXPECT_EQ(s.provider_message_id, "883953f4-6105-42a2-a16a-77a8eac79483");
  EXPECT_EQ(s.account_id, "");
  EXPECT_EQ(s.recipient_id, "john@example.com");
  EXPECT_EQ(s.status, delivery_status::delivered);
  EXPECT_EQ(s.timestamp_ms, 1572971634907);
  EXPECT_EQ(s.watermark_ms, 0);
  EXPECT_EQ(s.error_code, "");
  EXPECT_EQ(s.error_message, "");
}

TEST(PostmarkEvent, Bounce) {
  const auto w = expect_ok(normalize_postmark_event(R"({"RecordType":"Bounce","MessageStream":"outbound","ID":4323372036854775807,
    "Type":"HardBounce","TypeCode":1,"Name":"Hard bounce","Tag":"Invitation","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483",
    "ServerID":23,"Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details":"Test bounce details","Email":"john@example.com","From":"sender@example.com","BouncedAt":"2019-11-05T16:33:54.9070259Z",
    "DumpAvailable":true,"Inactive":true,"CanActivate":true,"Subject":"Test subject","Content":"<Full dump of bounce>"})"));
  ASSERT_EQ(w.statuses.size(), 1u);
  const inbound_status& s = w.statuses[0];
  EXPECT_EQ(s.status, delivery_status::failed);
  EXPECT_EQ(s.provider_message_id, "883953f4-6105-42a2-a16a-77a8eac79483");
  EXPECT_EQ(s.recipient_id, "john@example.com");
  EXPECT_EQ(s.timestamp_ms, 1572971634907);
  EXPECT_EQ(s.error_code, "1");
  EXPECT_EQ(s.error_message, "The server was unable to deliver your message (ex: unknown user, mailbox not found).");
}

TEST(PostmarkEvent, Open) {
  const auto w = expect_ok(normalize_postmark_event(R"({"RecordType":"Open","MessageStream":"outbound","FirstOpen":true,
    "Client":{"Name":"Chrome 35.0.1916.153","Company":"Google","Family":"Chrome"},"OS":{"Name":"OS X 10.7 Lion"},"Platform":"WebMail",
    "UserAgent":"Mozilla/5.0","ReadSeconds":5,"Geo":{},"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{},
    "ReceivedAt":"2019-11-05T16:33:54.9070259-05:00","Tag":"welcome-email","Recipient":"john@example.com"})"));
  ASSERT_EQ(w.statuses.size(), 1u);
  EXPECT_EQ(w.statuses[0].status, delivery_status::read);
  EXPECT_EQ(w.statuses[0].recipient_id, "john@example.com");
  EXPECT_EQ(w.statuses[0].timestamp_ms, 1572971634907 + 5 * 3600 * 1000);
}

TEST(PostmarkEvent, OtherRecordTypesAreIgnored) {
  for (std::string_view body : {
           std::string_view(R"({"RecordType":"SpamComplaint","MessageID":"m","Email":"john@example.com","BouncedAt":"2019-11-05T16:33:54Z"})"),
           std::string_view(R"({"RecordType":"LinkClick","MessageID":"m","Recipient":"john@example.com"})"),
           std::string_view(R"({"RecordType":"SubscriptionChange","MessageID":"m","Recipient":"john@example.com"})")}) {
    const auto w = expect_ok(normalize_postmark_event(body));
    EXPECT_TRUE(w.statuses.empty());
    EXPECT_TRUE(w.messages.empty());
    EXPECT_EQ(w.ignored, 1u);
  }
}

TEST(PostmarkEvent, MalformedBodiesAreInvalidArgument) {
  EXPECT_EQ(expect_invalid(normalize_postmark_event(R"({"RecordType":"Delivery")")), "malformed JSON");
  EXPECT_EQ(expect_invalid(normalize_postmark_event(R"({"MessageID":"m"})")), "RecordType must be a string");
  EXPECT_EQ(expect_invalid(normalize_postmark_event(R"({"RecordType":"Delivery","Recipient":"a@b.c"})")), "MessageID must be a string");
}

// Found by fuzzing: an email without any sender address is refused.
TEST(PostmarkInbound, AMessageWithoutSenderIsRefused) {
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"({"MessageID":"m"})")), "FromFull.Email or From must name the sender");
  EXPECT_EQ(expect_invalid(normalize_postmark_inbound(R"({"MessageID":"m","From":""})")), "FromFull.Email or From must name the sender");
}

}  // namespace
}  // namespace parley::engine::providers
