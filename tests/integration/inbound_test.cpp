// End-to-end: signed provider webhooks into the real parleyd, read back through the tenant
// API (conversations, messages, events). Real sockets, port 0, no sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

class Inbound : public parley_fixture {
 protected:
  void SetUp() override {
    parley_fixture::SetUp();
    if (HasFatalFailure()) return;
    key = create_tenant("acme");
    messenger.type = "messenger";
    messenger.account_id = "1029384756";
    messenger.app_secret = "e2e-messenger-app-secret";
    instagram.type = "instagram";
    instagram.account_id = "17841400000000001";
    instagram.app_secret = "e2e-instagram-app-secret";
    wa_id = create_channel("acme", whatsapp.to_json());
    ms_id = create_channel("acme", messenger.to_json());
    ig_id = create_channel("acme", instagram.to_json());
    tg_id = create_channel("acme", telegram.to_json());
    pm_id = create_channel("acme", postmark.to_json());
    ASSERT_FALSE(key.empty());
  }

  json_reply post(const webhook& w) const { return public_request("POST", w.path, w.body, w.headers); }

  /// Posts and expects the provider-facing 200 {"status":"ok"}.
  void post_ok(const webhook& w) const {
    auto r = post(w);
    EXPECT_EQ(r.status, 200) << w.path << ": " << r.body;
    EXPECT_EQ(str(r.json, "status"), "ok") << r.body;
  }

  webhook wa(const wa_message& m) const { return signed_meta(whatsapp, wa_id, whatsapp_text(whatsapp.account_id, m)); }

  /// The single conversation of the tenant (fails the test when there is not exactly one).
  json::value only_conversation() const {
    auto all = all_conversations(key);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? json::value() : all.front();
  }

  /// The consent of the single conversation on `channel_id`.
  std::string consent_of_only_conversation(const std::string& channel_id) const {
    auto conv = only_conversation();
    return str(member(conv, "consent"), channel_id);
  }

  std::vector<json::value> events_of_type(const std::string& type) const {
    std::vector<json::value> out;
    for (auto& e : all_events(key)) {
      if (str(e, "type") == type) out.push_back(e);
    }
    return out;
  }

  /// Nothing at all is stored for the tenant: no conversation, no event.
  void expect_nothing_stored() const {
    EXPECT_TRUE(all_conversations(key).empty());
    EXPECT_TRUE(all_events(key).empty());
  }

  struct expected_message {
    std::string channel_id, channel_type, type, text, direction, provider_message_id, external_id;
  };

  /// Checks a rendered message against what the webhook carried.
  static void expect_message(const json::value& m, const expected_message& e) {
    EXPECT_EQ(str(m, "channel_id"), e.channel_id);
    EXPECT_EQ(str(m, "channel_type"), e.channel_type);
    EXPECT_EQ(str(m, "type"), e.type);
    EXPECT_EQ(str(m, "text"), e.text);
    EXPECT_EQ(str(m, "direction"), e.direction);
    EXPECT_EQ(str(m, "provider_message_id"), e.provider_message_id);
    EXPECT_EQ(str(m, "external_id"), e.external_id);
    EXPECT_EQ(str(m, "status"), e.direction == "inbound" ? "received" : "sent");
    EXPECT_EQ(str(m, "id").rfind("msg_", 0), 0u) << str(m, "id");
  }

  /// One webhook carrying one customer message: 200, then readable through every tenant
  /// route with the right fields, one message.received event; redelivered four more times
  /// it is still stored once.
  void expect_single_inbound(const webhook& w, const expected_message& e) {
    post_ok(w);

    auto conv = only_conversation();
    std::string conv_id = str(conv, "id");
    ASSERT_EQ(conv_id.rfind("cv_", 0), 0u) << json::serialize(conv);
    EXPECT_EQ(num(conv, "message_count"), 1);
    const auto& identities = arr(member(conv, "contact"), "identities");
    ASSERT_EQ(identities.size(), 1u) << json::serialize(conv);
    EXPECT_EQ(str(identities[0], "channel_id"), e.channel_id);
    EXPECT_EQ(str(identities[0], "channel_type"), e.channel_type);
    EXPECT_EQ(str(identities[0], "external_id"), e.external_id);
    EXPECT_EQ(str(member(conv, "consent"), e.channel_id), "unknown") << json::serialize(conv);

    auto one = tenant_get(key, "/v1/conversations/" + conv_id);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(str(one.json, "id"), conv_id);

    auto messages = all_messages(key, conv_id);
    ASSERT_EQ(messages.size(), 1u);
    expect_message(messages[0], e);
    EXPECT_EQ(str(messages[0], "conversation_id"), conv_id);
    EXPECT_EQ(num(messages[0], "seq"), 1);
    std::string msg_id = str(messages[0], "id");

    auto direct = tenant_get(key, "/v1/messages/" + msg_id);
    ASSERT_EQ(direct.status, 200) << direct.body;
    expect_message(direct.json, e);
    EXPECT_EQ(str(direct.json, "id"), msg_id);
    EXPECT_EQ(str(direct.json, "conversation_id"), conv_id);
    ASSERT_EQ(arr(direct.json, "status_history").size(), 1u) << direct.body;
    EXPECT_EQ(str(arr(direct.json, "status_history")[0], "status"), "received");

    auto events = all_events(key);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(str(events[0], "type"), "message.received");
    EXPECT_EQ(str(events[0], "id").rfind("ev_", 0), 0u);
    EXPECT_GE(parse_rfc3339_ms(str(events[0], "at")), 0) << str(events[0], "at");
    EXPECT_EQ(str(member(events[0], "data"), "id"), msg_id);
    EXPECT_EQ(str(member(events[0], "data"), "provider_message_id"), e.provider_message_id);

    // The provider redelivers (at-least-once): 200 every time, stored once.
    for (int i = 0; i < 4; ++i) post_ok(w);
    EXPECT_EQ(num(only_conversation(), "message_count"), 1);
    EXPECT_EQ(all_messages(key, conv_id).size(), 1u);
    EXPECT_EQ(all_events(key).size(), 1u);
  }

  std::string key;
  meta_channel whatsapp, messenger, instagram;
  telegram_channel telegram;
  postmark_channel postmark;
  std::string wa_id, ms_id, ig_id, tg_id, pm_id;
};

// ---- one message per provider -------------------------------------------------------------

TEST_F(Inbound, WhatsAppTextIsStoredOnceAndReadableEverywhere) {
  wa_message m{"wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQTk1RjE2QkU4", "15550100001", "Hi, is my order shipped?", unix_now_s() - 5};
  expect_single_inbound(wa(m), {wa_id, "whatsapp", "text", m.text, "inbound", m.wamid, m.from});
}

TEST_F(Inbound, MessengerTextIsStoredOnceAndReadableEverywhere) {
  std::string body = meta_messaging_text("page", messenger.account_id, "6543210987654321", "m_AbC123messenger",
                                         "Do you ship to Canada?", unix_now_ms() - 5000);
  expect_single_inbound(signed_meta(messenger, ms_id, body),
                        {ms_id, "messenger", "text", "Do you ship to Canada?", "inbound", "m_AbC123messenger", "6543210987654321"});
}

TEST_F(Inbound, InstagramTextIsStoredOnceAndReadableEverywhere) {
  std::string body = meta_messaging_text("instagram", instagram.account_id, "1784140999000111",
                                         "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA", "Love this jacket", unix_now_ms() - 5000);
  expect_single_inbound(signed_meta(instagram, ig_id, body),
                        {ig_id, "instagram", "text", "Love this jacket", "inbound",
                         "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA", "1784140999000111"});
}

TEST_F(Inbound, TelegramMessageIsStoredOnceAndReadableEverywhere) {
  std::string body = telegram_text(734001122, 5512345678, "Ivan", "Privet! Order 1234?", unix_now_s() - 5);
  expect_single_inbound(signed_telegram(telegram, tg_id, body),
                        {tg_id, "telegram", "text", "Privet! Order 1234?", "inbound", "734001122", "5512345678"});
}

TEST_F(Inbound, PostmarkEmailIsStoredOnceAndReadableEverywhere) {
  postmark_email e;
  e.message_id = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817";
  e.date_s = unix_now_s() - 60;
  expect_single_inbound(signed_postmark(postmark, pm_id, postmark_inbound(e)),
                        {pm_id, "email", "email", e.text, "inbound", e.message_id, "jane.doe@example.com"});
  auto conv = only_conversation();
  auto messages = all_messages(key, str(conv, "id"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(str(member(messages[0], "email"), "subject"), e.subject) << json::serialize(messages[0]);
  EXPECT_TRUE(member(conv, "windows").as_object().empty()) << "email has no 24-hour window";
}

// ---- dedup --------------------------------------------------------------------------------

TEST_F(Inbound, RedeliveryAfterRestartIsStoredOnce) {
  wa_message m{"wamid.restart-dedup-0001", "15550100002", "hello once", unix_now_s() - 30};
  for (int i = 0; i < 5; ++i) post_ok(wa(m));
  std::string conv_id = str(only_conversation(), "id");
  ASSERT_EQ(all_events(key).size(), 1u);

  // Several rounds: what a reader sees right after the 200 must already be right.
  for (int round = 0; round < 5; ++round) {
    restart();
    if (HasFatalFailure()) return;
    post_ok(wa(m));
    auto one = tenant_get(key, "/v1/conversations/" + conv_id);
    EXPECT_EQ(num(one.json, "message_count"), 1) << "round " << round << ": a redelivery after restart counted again: " << one.body;
  }
  post_ok(wa(m));
  auto conv = only_conversation();
  EXPECT_EQ(str(conv, "id"), conv_id);
  EXPECT_EQ(all_messages(key, conv_id).size(), 1u);
  EXPECT_EQ(all_events(key).size(), 1u);
}

TEST_F(Inbound, RedeliveryAcknowledgedJustBeforeACrashIsNotCountedTwice) {
  wa_message m{"wamid.crash-dedup-0001", "15550100012", "hello once", unix_now_s() - 30};
  post_ok(wa(m));
  std::string conv_id = str(only_conversation(), "id");
  for (int round = 0; round < 3; ++round) {
    restart();  // the conversation is no longer in memory: the dedup guard in storage decides
    if (HasFatalFailure()) return;
    post_ok(wa(m));
    kill9();  // right after the 200: whatever it acknowledged is all that is durable
    start();
    if (HasFatalFailure()) return;
    auto conv = tenant_get(key, "/v1/conversations/" + conv_id);
    EXPECT_EQ(num(conv.json, "message_count"), 1) << "round " << round << ": " << conv.body;
  }
  EXPECT_EQ(all_messages(key, conv_id).size(), 1u);
  EXPECT_EQ(all_events(key).size(), 1u);
}

TEST_F(Inbound, ConcurrentRedeliveriesAreStoredOnce) {
  for (int round = 1; round <= 5; ++round) {
    wa_message m{"wamid.concurrent-dedup-000" + std::to_string(round), "15550100003", "hello at once", unix_now_s() - 30 + round};
    auto w = wa(m);
    std::vector<std::future<json_reply>> replies;
    for (int i = 0; i < 5; ++i) replies.push_back(std::async(std::launch::async, [&] { return post(w); }));
    for (auto& f : replies) {
      auto r = f.get();
      EXPECT_EQ(r.status, 200) << r.body;
    }
    auto conv = only_conversation();
    EXPECT_EQ(num(conv, "message_count"), round) << "after round " << round << ": " << json::serialize(conv);
    EXPECT_EQ(all_messages(key, str(conv, "id")).size(), static_cast<std::size_t>(round));
    EXPECT_EQ(all_events(key).size(), static_cast<std::size_t>(round));
  }
}

TEST_F(Inbound, SameMessageTwiceInOneBodyIsStoredOnce) {
  // Meta batches several messages per body; a retry merged into a batch can repeat one.
  wa_message m{"wamid.twice-in-one-body", "15550101008", "repeated inside one body", unix_now_s() - 10};
  post_ok(signed_meta(whatsapp, wa_id, whatsapp_messages(whatsapp.account_id, {m, m})));
  auto conv = only_conversation();
  EXPECT_EQ(num(conv, "message_count"), 1) << json::serialize(conv);
  EXPECT_EQ(all_messages(key, str(conv, "id")).size(), 1u);
  EXPECT_EQ(all_events(key).size(), 1u);
}

// ---- 24-hour window -------------------------------------------------------------------------

TEST_F(Inbound, LateOlderMessageDoesNotMoveTheWindowBack) {
  std::int64_t t1 = unix_now_s() - 60;
  post_ok(wa({"wamid.window-0001", "15550100004", "first", t1}));
  auto conv = only_conversation();
  const auto& w1 = member(member(conv, "windows"), wa_id);
  EXPECT_EQ(parse_rfc3339_ms(str(w1, "expires_at")), t1 * 1000 + day_ms) << json::serialize(conv);
  EXPECT_TRUE(member(w1, "open").is_bool() && member(w1, "open").as_bool()) << json::serialize(conv);

  // Delivered three hours late: an older provider timestamp.
  post_ok(wa({"wamid.window-0002", "15550100004", "sent earlier, arrived later", t1 - 3 * 3600}));
  conv = only_conversation();
  EXPECT_EQ(num(conv, "message_count"), 2);
  EXPECT_EQ(parse_rfc3339_ms(str(member(member(conv, "windows"), wa_id), "expires_at")), t1 * 1000 + day_ms)
      << json::serialize(conv);
  EXPECT_EQ(parse_rfc3339_ms(str(conv, "last_message_at")), t1 * 1000) << json::serialize(conv);

  // A newer message does extend it.
  std::int64_t t3 = t1 + 30;
  post_ok(wa({"wamid.window-0003", "15550100004", "newest", t3}));
  conv = only_conversation();
  EXPECT_EQ(parse_rfc3339_ms(str(member(member(conv, "windows"), wa_id), "expires_at")), t3 * 1000 + day_ms)
      << json::serialize(conv);
}

// ---- consent ----------------------------------------------------------------------------------

TEST_F(Inbound, StopOptsOutAndStartOptsBackIn) {
  std::int64_t t = unix_now_s() - 100;
  post_ok(wa({"wamid.consent-0001", "15550100005", "  sToP \n", t}));
  auto conv = only_conversation();
  EXPECT_EQ(str(member(conv, "consent"), wa_id), "opted_out") << json::serialize(conv);
  auto consent = events_of_type("conversation.consent");
  ASSERT_EQ(consent.size(), 1u);
  EXPECT_EQ(str(member(consent[0], "data"), "consent"), "opted_out");
  EXPECT_EQ(str(member(consent[0], "data"), "channel_id"), wa_id);
  EXPECT_EQ(str(member(consent[0], "data"), "conversation_id"), str(conv, "id"));

  // Not exactly a keyword: no change.
  post_ok(wa({"wamid.consent-0002", "15550100005", "please stop sending me promos", t + 1}));
  EXPECT_EQ(consent_of_only_conversation(wa_id), "opted_out");
  EXPECT_EQ(events_of_type("conversation.consent").size(), 1u);

  post_ok(wa({"wamid.consent-0003", "15550100005", "START", t + 2}));
  conv = only_conversation();
  EXPECT_EQ(str(member(conv, "consent"), wa_id), "opted_in") << json::serialize(conv);
  consent = events_of_type("conversation.consent");
  ASSERT_EQ(consent.size(), 2u);
  EXPECT_EQ(str(member(consent[1], "data"), "consent"), "opted_in");

  // Every other stop keyword opts out too (Telegram, per channel).
  std::int64_t update = 880000;
  for (const char* word : {"UNSUBSCRIBE", "cancel", "End", "quit", "STOPALL"}) {
    post_ok(signed_telegram(telegram, tg_id, telegram_text(++update, 777000111, "Lee", "hello", t)));
    post_ok(signed_telegram(telegram, tg_id, telegram_text(++update, 777000111, "Lee", word, t + 1)));
    auto convs = all_conversations(key);
    auto it = std::find_if(convs.begin(), convs.end(), [&](const auto& c) { return member(member(c, "consent"), tg_id).is_string(); });
    ASSERT_NE(it, convs.end());
    EXPECT_EQ(str(member(*it, "consent"), tg_id), "opted_out") << word;
    post_ok(signed_telegram(telegram, tg_id, telegram_text(++update, 777000111, "Lee", "unstop", t + 2)));
    convs = all_conversations(key);
    it = std::find_if(convs.begin(), convs.end(), [&](const auto& c) { return member(member(c, "consent"), tg_id).is_string(); });
    EXPECT_EQ(str(member(*it, "consent"), tg_id), "opted_in") << word;
  }
  // The WhatsApp channel's consent is untouched by the Telegram ones.
  auto wa_conv = tenant_get(key, "/v1/conversations/" + str(conv, "id"));
  EXPECT_EQ(str(member(wa_conv.json, "consent"), wa_id), "opted_in") << wa_conv.body;
}

TEST_F(Inbound, RedeliveredOldStopAfterRestartDoesNotOptOutAgain) {
  std::int64_t t = unix_now_s() - 100;
  wa_message stop{"wamid.consent-late-0001", "15550100006", "STOP", t};
  post_ok(wa(stop));
  post_ok(wa({"wamid.consent-late-0002", "15550100006", "START", t + 10}));
  ASSERT_EQ(consent_of_only_conversation(wa_id), "opted_in");

  restart();
  if (HasFatalFailure()) return;
  // Meta redelivers the old STOP (a duplicate): it must change nothing.
  post_ok(wa(stop));
  auto conv = only_conversation();
  EXPECT_EQ(str(member(conv, "consent"), wa_id), "opted_in") << json::serialize(conv);
  EXPECT_EQ(num(conv, "message_count"), 2) << json::serialize(conv);
  EXPECT_EQ(events_of_type("conversation.consent").size(), 2u);
}

// ---- identity linking -----------------------------------------------------------------------

TEST_F(Inbound, WhatsAppAndTelegramSharingOneOwnPhoneLandInOneConversation) {
  std::int64_t t = unix_now_s() - 100;
  post_ok(wa({"wamid.link-0001", "15550100777", "hi from whatsapp", t}));
  post_ok(signed_telegram(telegram, tg_id, telegram_contact(910001, 6600770077, "Mia", "+1 (555) 010-0777", t + 5)));
  post_ok(signed_telegram(telegram, tg_id, telegram_text(910002, 6600770077, "Mia", "and hi from telegram", t + 6)));

  auto conv = only_conversation();
  EXPECT_EQ(num(conv, "message_count"), 3) << json::serialize(conv);
  const auto& identities = arr(member(conv, "contact"), "identities");
  ASSERT_EQ(identities.size(), 2u) << json::serialize(conv);
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& id : identities) got.emplace(str(id, "channel_id"), str(id, "external_id"));
  EXPECT_TRUE(got.contains({wa_id, "15550100777"})) << json::serialize(conv);
  EXPECT_TRUE(got.contains({tg_id, "6600770077"})) << json::serialize(conv);
  auto messages = all_messages(key, str(conv, "id"));
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(str(messages[1], "type"), "contacts");

  // A contact card of someone else does not link (only the sender's own number does).
  post_ok(signed_telegram(telegram, tg_id, telegram_contact(910003, 6600880088, "Max", "+15550100777", t + 7, false)));
  EXPECT_EQ(all_conversations(key).size(), 2u);
}

// ---- rejected webhooks store nothing ------------------------------------------------------

TEST_F(Inbound, RejectedWebhooksAnswerTheirCodeAndStoreNothing) {
  std::string body = whatsapp_text(whatsapp.account_id, {"wamid.rejected-0001", "15550100008", "hi", unix_now_s()});
  std::string path = "/webhooks/whatsapp/" + wa_id;

  auto wrong_secret = public_request("POST", path, body, {meta_signature_header("not-the-app-secret", body)});
  EXPECT_EQ(wrong_secret.status, 401) << wrong_secret.body;
  EXPECT_EQ(error_code(wrong_secret), "unauthorized");
  EXPECT_EQ(public_request("POST", path, body, {}).status, 401) << "missing signature";
  std::string tampered = body;
  tampered.replace(tampered.find("\"hi\""), 4, "\"ho\"");
  EXPECT_EQ(public_request("POST", path, tampered, {meta_signature_header(whatsapp.app_secret, body)}).status, 401);

  for (std::string bad : {std::string("this is not json"), std::string(R"({"object":"whatsapp_business_account","entry":"x"})"),
                          std::string(R"([1,2,3])"), std::string(R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{}}}]}]})")}) {
    auto r = post(signed_meta(whatsapp, wa_id, bad));
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_FALSE(error_code(r).empty()) << r.body;
  }
  EXPECT_EQ(post(signed_telegram(telegram, tg_id, R"({"message":{"text":"no update id"}})")).status, 400);
  EXPECT_EQ(post(signed_postmark(postmark, pm_id, R"({"From":"a@b.example","TextBody":"no MessageID"})")).status, 400);

  auto unknown = public_request("POST", "/webhooks/whatsapp/ch_doesnotexist", body,
                                {meta_signature_header(whatsapp.app_secret, body)});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  // A real channel id of another type on this provider's route is unknown too.
  EXPECT_EQ(public_request("POST", "/webhooks/whatsapp/" + ms_id, body, {meta_signature_header(messenger.app_secret, body)}).status,
            404);

  // Over the default 1 MiB limit (correctly signed).
  std::string big = whatsapp_text(whatsapp.account_id,
                                  {"wamid.rejected-big", "15550100008", std::string((1 << 20) + 16, 'x'), unix_now_s()});
  auto too_big = post(signed_meta(whatsapp, wa_id, big));
  EXPECT_EQ(too_big.status, 413) << too_big.body.substr(0, 200);
  EXPECT_EQ(error_code(too_big), "payload_too_large") << too_big.body.substr(0, 200);

  expect_nothing_stored();
  // The server is still fine: a good webhook afterwards is stored.
  post_ok(signed_meta(whatsapp, wa_id, body));
  EXPECT_EQ(all_conversations(key).size(), 1u);
}

TEST_F(Inbound, MetaHandshakeEchoesTheChallengeOnlyForTheRightToken) {
  for (const auto* ch : {&whatsapp, &messenger, &instagram}) {
    std::string id = ch == &whatsapp ? wa_id : ch == &messenger ? ms_id : ig_id;
    std::string base = "/webhooks/" + ch->segment() + "/" + id + "?hub.mode=subscribe&hub.challenge=1158201444";
    auto ok = public_request("GET", base + "&hub.verify_token=" + ch->verify_token);
    EXPECT_EQ(ok.status, 200) << ch->type << ": " << ok.body;
    EXPECT_EQ(ok.body, "1158201444") << ch->type;
    EXPECT_EQ(public_request("GET", base + "&hub.verify_token=wrong-token").status, 403) << ch->type;
    EXPECT_EQ(public_request("GET", base).status, 403) << ch->type << " without a token";
    EXPECT_EQ(public_request("GET", "/webhooks/" + ch->segment() + "/" + id +
                                        "?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=" + ch->verify_token)
                  .status,
              403)
        << ch->type;
    EXPECT_EQ(public_request("GET", "/webhooks/" + ch->segment() + "/ch_doesnotexist?hub.mode=subscribe&hub.challenge=1&"
                                    "hub.verify_token=" + ch->verify_token)
                  .status,
              404);
  }
  expect_nothing_stored();
}

TEST_F(Inbound, TelegramAndPostmarkCredentialsAreChecked) {
  std::string tg = telegram_text(100200300, 5500, "Bo", "hi", unix_now_s());
  auto wrong = public_request("POST", "/webhooks/telegram/" + tg_id, tg, {telegram_secret_header("wrong_token")});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(public_request("POST", "/webhooks/telegram/" + tg_id, tg, {}).status, 401);

  postmark_email e;
  e.message_id = "7a8b9c0d-rejected";
  e.date_s = unix_now_s();
  std::string pm = postmark_inbound(e);
  auto bad_password = public_request("POST", "/webhooks/postmark/" + pm_id, pm,
                                     {basic_auth_header(postmark.inbound_username, "wrong-password")});
  EXPECT_EQ(bad_password.status, 401) << bad_password.body;
  EXPECT_EQ(public_request("POST", "/webhooks/postmark/" + pm_id, pm,
                           {basic_auth_header("someone-else", postmark.inbound_password)})
                .status,
            401);
  EXPECT_EQ(public_request("POST", "/webhooks/postmark/" + pm_id, pm, {}).status, 401);
  EXPECT_EQ(public_request("POST", "/webhooks/postmark/" + pm_id + "/events", postmark_delivery("x", "a@b.example", unix_now_s()),
                           {basic_auth_header(postmark.inbound_username, "wrong-password")})
                .status,
            401);
  expect_nothing_stored();
}

// ---- several messages in one body ------------------------------------------------------------

TEST_F(Inbound, OneWebhookWithTwoCustomersMakesTwoConversationsMostRecentFirst) {
  std::int64_t t = unix_now_s() - 200;
  post_ok(signed_meta(whatsapp, wa_id,
                      whatsapp_messages(whatsapp.account_id, {{"wamid.two-0001", "15550101001", "from the first", t, "Ann"},
                                                              {"wamid.two-0002", "15550101002", "from the second", t + 50, "Bob"}})));
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 2u);
  // Most recent activity first.
  EXPECT_EQ(str(arr(member(convs[0], "contact"), "identities")[0], "external_id"), "15550101002");
  EXPECT_EQ(str(arr(member(convs[1], "contact"), "identities")[0], "external_id"), "15550101001");
  for (const auto& c : convs) {
    EXPECT_EQ(num(c, "message_count"), 1);
    auto messages = all_messages(key, str(c, "id"));
    ASSERT_EQ(messages.size(), 1u);
  }
  EXPECT_EQ(str(member(convs[0], "contact"), "name"), "Bob");
  EXPECT_EQ(events_of_type("message.received").size(), 2u);

  // Paging: limit=1 gives one conversation and a cursor to the other.
  auto page1 = tenant_get(key, "/v1/conversations?limit=1");
  ASSERT_EQ(page1.status, 200) << page1.body;
  ASSERT_EQ(arr(page1.json, "conversations").size(), 1u);
  std::string cursor = str(page1.json, "next_cursor");
  ASSERT_FALSE(cursor.empty()) << page1.body;
  auto page2 = tenant_get(key, "/v1/conversations?limit=1&cursor=" + url_encode(cursor));
  ASSERT_EQ(page2.status, 200) << page2.body;
  ASSERT_EQ(arr(page2.json, "conversations").size(), 1u);
  EXPECT_EQ(str(arr(page2.json, "conversations")[0], "id"), str(convs[1], "id"));
  EXPECT_TRUE(member(page2.json, "next_cursor").is_null()) << page2.body;
}

TEST_F(Inbound, MessagesPageNewestFirstWithNextBefore) {
  std::int64_t t = unix_now_s() - 300;
  for (int i = 1; i <= 3; ++i) post_ok(wa({"wamid.page-000" + std::to_string(i), "15550101003", "m" + std::to_string(i), t + i}));
  std::string conv_id = str(only_conversation(), "id");
  auto page1 = tenant_get(key, "/v1/conversations/" + conv_id + "/messages?limit=2");
  ASSERT_EQ(page1.status, 200) << page1.body;
  const auto& first = arr(page1.json, "messages");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(str(first[0], "text"), "m3");
  EXPECT_EQ(str(first[1], "text"), "m2");
  const auto& next = member(page1.json, "next_before");
  ASSERT_TRUE(next.is_string()) << page1.body;
  auto page2 = tenant_get(key, "/v1/conversations/" + conv_id + "/messages?limit=2&before=" + std::string(next.as_string()));
  ASSERT_EQ(page2.status, 200) << page2.body;
  ASSERT_EQ(arr(page2.json, "messages").size(), 1u) << page2.body;
  EXPECT_EQ(str(arr(page2.json, "messages")[0], "text"), "m1");
  EXPECT_TRUE(member(page2.json, "next_before").is_null()) << page2.body;
}

// ---- statuses ---------------------------------------------------------------------------------

TEST_F(Inbound, MessengerEchoIsOutboundAndWatermarksAdvanceItMonotonically) {
  std::string psid = "7001002003004005";
  std::int64_t t = unix_now_ms() - 60'000;
  post_ok(signed_meta(messenger, ms_id, messenger_echo(messenger.account_id, psid, "m_echo_from_page_inbox", "We shipped it!", t)));

  auto conv = only_conversation();
  EXPECT_EQ(str(arr(member(conv, "contact"), "identities")[0], "external_id"), psid) << json::serialize(conv);
  auto messages = all_messages(key, str(conv, "id"));
  ASSERT_EQ(messages.size(), 1u);
  std::string msg_id = str(messages[0], "id");
  expect_message(messages[0], {ms_id, "messenger", "text", "We shipped it!", "outbound", "m_echo_from_page_inbox", psid});
  EXPECT_TRUE(events_of_type("message.received").empty()) << "an echo is not a customer message";

  post_ok(signed_meta(messenger, ms_id, messenger_delivery(messenger.account_id, psid, t + 1000)));
  auto delivered = tenant_get(key, "/v1/messages/" + msg_id);
  ASSERT_EQ(delivered.status, 200);
  EXPECT_EQ(str(delivered.json, "status"), "delivered") << delivered.body;
  const auto& history = arr(delivered.json, "status_history");
  ASSERT_EQ(history.size(), 2u) << delivered.body;
  EXPECT_EQ(str(history[0], "status"), "sent");
  EXPECT_EQ(str(history[1], "status"), "delivered");
  auto status_events = events_of_type("message.status");
  ASSERT_FALSE(status_events.empty());
  EXPECT_EQ(str(member(status_events.back(), "data"), "status"), "delivered");
  EXPECT_EQ(str(member(member(status_events.back(), "data"), "message"), "id"), msg_id);

  post_ok(signed_meta(messenger, ms_id, messenger_read(messenger.account_id, psid, t + 2000)));
  EXPECT_EQ(str(tenant_get(key, "/v1/messages/" + msg_id).json, "status"), "read");
  // A late delivery after read: stays read.
  post_ok(signed_meta(messenger, ms_id, messenger_delivery(messenger.account_id, psid, t + 3000)));
  auto after = tenant_get(key, "/v1/messages/" + msg_id);
  EXPECT_EQ(str(after.json, "status"), "read") << after.body;
  EXPECT_EQ(arr(after.json, "status_history").size(), 3u) << after.body;
  EXPECT_EQ(consent_of_only_conversation(ms_id), "unknown");
}

TEST_F(Inbound, StatusesForUnknownMessagesAreAcknowledgedAndIgnored) {
  post_ok(signed_meta(whatsapp, wa_id,
                      whatsapp_status(whatsapp.account_id, "wamid.never-sent-by-parley", "delivered", "15550101004", unix_now_s())));
  post_ok(signed_meta(whatsapp, wa_id,
                      whatsapp_status(whatsapp.account_id, "wamid.never-sent-either", "read", "15550101004", unix_now_s())));
  post_ok(signed_postmark(postmark, pm_id, postmark_delivery("0b1c2d3e-unknown", "Jane.Doe@Example.com", unix_now_s()), true));
  post_ok(signed_postmark(postmark, pm_id, postmark_bounce("0b1c2d3e-unknown-2", "jane.doe@example.com", unix_now_s()), true));
  post_ok(signed_meta(messenger, ms_id, messenger_delivery(messenger.account_id, "nobody-psid", unix_now_ms(), {"m_unknown"})));
  expect_nothing_stored();

  // A WhatsApp status naming an inbound message does not change it.
  wa_message m{"wamid.inbound-then-status", "15550101005", "hello", unix_now_s() - 10};
  post_ok(wa(m));
  post_ok(signed_meta(whatsapp, wa_id, whatsapp_status(whatsapp.account_id, m.wamid, "read", m.from, unix_now_s())));
  auto messages = all_messages(key, str(only_conversation(), "id"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(str(messages[0], "status"), "received");
  EXPECT_TRUE(events_of_type("message.status").empty());
}

// ---- events feed -----------------------------------------------------------------------------

TEST_F(Inbound, EventsLongPollReturnsTheNextEventWhenItCommits) {
  post_ok(wa({"wamid.poll-0001", "15550101006", "before the poll", unix_now_s() - 20}));
  std::string cursor = events_cursor(key);
  ASSERT_FALSE(cursor.empty());

  // Nothing new: a short wait ends empty, at the same cursor.
  auto idle = tenant_get(key, "/v1/events?after=" + cursor + "&wait=1");
  ASSERT_EQ(idle.status, 200) << idle.body;
  EXPECT_TRUE(arr(idle.json, "events").empty()) << idle.body;
  EXPECT_EQ(str(idle.json, "next_cursor"), cursor);

  auto poll = std::async(std::launch::async, [&] { return tenant_get(key, "/v1/events?after=" + cursor + "&wait=20"); });
  // The poll parks rather than answering at once (it may only end with an event).
  EXPECT_EQ(poll.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  post_ok(wa({"wamid.poll-0002", "15550101006", "during the poll", unix_now_s() - 10}));
  auto r = poll.get();
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& events = arr(r.json, "events");
  ASSERT_EQ(events.size(), 1u) << r.body;
  EXPECT_EQ(str(events[0], "type"), "message.received");
  EXPECT_EQ(str(member(events[0], "data"), "provider_message_id"), "wamid.poll-0002");
  EXPECT_EQ(str(r.json, "next_cursor"), str(events[0], "cursor"));
  EXPECT_NE(str(r.json, "next_cursor"), cursor);
}

// ---- tenant isolation and API keys ----------------------------------------------------------

TEST_F(Inbound, TenantsSeeOnlyTheirOwnDataAndKeysNeedTheReadScope) {
  post_ok(wa({"wamid.isolation-0001", "15550101007", "private to acme", unix_now_s() - 10}));
  auto conv = only_conversation();
  std::string conv_id = str(conv, "id");
  std::string msg_id = str(all_messages(key, conv_id).at(0), "id");

  std::string other = create_tenant("globex");
  ASSERT_FALSE(other.empty());
  auto list = tenant_get(other, "/v1/conversations");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(arr(list.json, "conversations").empty()) << list.body;
  for (const auto& path : {"/v1/conversations/" + conv_id, "/v1/conversations/" + conv_id + "/messages",
                           "/v1/messages/" + msg_id}) {
    auto r = tenant_get(other, path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_EQ(error_code(r), "not_found") << r.body;
    EXPECT_EQ(tenant_get(key, path).status, 200) << path;
  }
  auto events = tenant_get(other, "/v1/events");
  ASSERT_EQ(events.status, 200);
  EXPECT_TRUE(arr(events.json, "events").empty()) << events.body;
  // A long-poll of globex does not see acme's events either.
  auto waited = tenant_get(other, "/v1/events?wait=1");
  EXPECT_EQ(waited.status, 200);
  EXPECT_TRUE(arr(waited.json, "events").empty()) << waited.body;

  auto [send_id, send_only] = create_api_key("acme", {"send"});
  auto forbidden = tenant_get(send_only, "/v1/conversations");
  EXPECT_EQ(forbidden.status, 403) << forbidden.body;
  EXPECT_EQ(error_code(forbidden), "forbidden");
  EXPECT_EQ(tenant_get(send_only, "/v1/messages/" + msg_id).status, 403);
  EXPECT_EQ(tenant_get(send_only, "/v1/events").status, 403);

  auto none = tenant_get("", "/v1/conversations");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(error_code(none), "unauthorized");
  EXPECT_EQ(tenant_get("pk_not_a_real_key_at_all", "/v1/conversations").status, 401);
  EXPECT_EQ(tenant_get("", "/v1/events?wait=1").status, 401);
  (void)send_id;
}

}  // namespace
}  // namespace parley::testing
