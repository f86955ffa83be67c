// Conversation lifecycle end to end: idle conversations are passivated (memory does not
// grow with stored conversations) and come back from storage with their state; contacts
// merge into one conversation; SIGTERM after traffic exits cleanly.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

class Lifecycle : public parley_fixture {
 protected:
  parleyd_options options() const override { return parleyd_options{{"--conversation-idle-seconds", "1"}, {}}; }

  void SetUp() override {
    parley_fixture::SetUp();
    if (HasFatalFailure()) return;
    key = create_tenant("acme");
    wa_id = create_channel("acme", whatsapp.to_json());
    ASSERT_FALSE(key.empty());
  }

  void send(const std::string& wamid, const std::string& from, const std::string& text, std::int64_t ts) {
    auto w = signed_meta(whatsapp, wa_id, whatsapp_text(whatsapp.account_id, wa_message{wamid, from, text, ts, "Customer"}));
    auto r = public_request("POST", w.path, w.body, w.headers);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  /// The value of a gauge in /metrics (-1 when absent).
  double gauge(const std::string& name) const {
    auto r = admin("GET", "/metrics");
    auto pos = r.body.find("\n" + name + " ");
    if (pos == std::string::npos) return -1;
    return std::stod(r.body.substr(pos + name.size() + 2));
  }

  meta_channel whatsapp;
  std::string key, wa_id;
};

// Runs `parleyd <args>` to completion (a maintenance command); its exit status and stdout.
std::pair<int, std::string> run_parleyd(const std::vector<std::string>& args, const std::vector<std::string>& env,
                                        const std::string& log) {
  child_process p(PARLEYD_PATH, args, env, log);
  std::string out;
  while (auto line = p.read_line(fixture_start_timeout_ms)) out += *line + "\n";
  auto code = p.wait_exit(fixture_start_timeout_ms);
  return {code.value_or(-1), out};
}

TEST_F(Lifecycle, MasterKeyRotationReWrapsTenantKeysAndKeepsEveryRecordReadable) {
  send("wamid.rot-1", "15550107001", "written under the old master key", unix_now_s());
  std::string conv = str(all_conversations(key).at(0), "id");
  std::string old_key = read_file(data_dir() + "/master.key");
  ASSERT_FALSE(old_key.empty());
  stop();

  temp_dir scratch;
  std::string new_key_file = scratch.sub("new.key");
  {
    std::ofstream f(new_key_file);
    f << "q2VNqWc0n8M5oWvD2Yb9K1L3Tz7xHf0eJgRpUaIsCwE=\n";  // base64 of 32 bytes
  }
  std::string token = std::string("PARLEY_ADMIN_TOKEN=") + fixture_admin_token;
  auto bad = run_parleyd({"--data-dir", data_dir(), "--rotate-master-key", scratch.sub("missing.key")}, {token}, scratch.sub("bad.log"));
  EXPECT_EQ(bad.first, 2);
  EXPECT_EQ(read_file(data_dir() + "/master.key"), old_key) << "a failed rotation changes nothing";
  auto done = run_parleyd({"--data-dir", data_dir(), "--rotate-master-key", new_key_file}, {token}, scratch.sub("rotate.log"));
  ASSERT_EQ(done.first, 0) << done.second << read_file(scratch.sub("rotate.log"));
  EXPECT_NE(done.second.find("1 tenant keys re-wrapped"), std::string::npos) << done.second;
  EXPECT_EQ(read_file(data_dir() + "/master.key"), read_file(new_key_file));
  EXPECT_EQ(read_file(scratch.sub("rotate.log")).find("q2VNqWc0"), std::string::npos) << "the key is never logged";

  // The old key no longer opens this data directory.
  std::string old_b64 = old_key.substr(0, old_key.find_last_not_of("\n") + 1);
  auto refused = run_parleyd({"--data-dir", data_dir(), "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"},
                             {token, "PARLEY_MASTER_KEY=" + old_b64}, scratch.sub("old.log"));
  EXPECT_EQ(refused.first, 2) << read_file(scratch.sub("old.log"));

  // Everything stored before is readable under the new key, and new writes work.
  start();
  auto messages = all_messages(key, conv);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(str(messages.at(0), "text"), "written under the old master key");
  send("wamid.rot-2", "15550107001", "and one after", unix_now_s());
  EXPECT_EQ(all_messages(key, conv).size(), 2u);
}

TEST_F(Lifecycle, IdleConversationsArePassivatedAndReactivatedWithTheirState) {
  for (int i = 0; i < 30; ++i) send("wamid.idle." + std::to_string(i), "1555010" + std::to_string(1000 + i), "hi", 1'790'000'000 + i);
  EXPECT_GE(gauge("parley_conversations_active"), 1.0);
  // Passivation is a timer (1 s idle here): poll the gauge with a generous deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (gauge("parley_conversations_active") > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(gauge("parley_conversations_active"), 0.0) << "conversations stayed active";

  // Reactivation from storage: sequence numbers and counts continue, duplicates still known.
  send("wamid.idle.0", "15550101000", "hi", 1'790'000'000);  // a redelivery
  send("wamid.idle.second", "15550101000", "again", 1'790'000'100);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 30u);
  const json::value* mine = nullptr;
  for (const auto& c : convs) {
    if (num(c, "message_count") == 2) mine = &c;
  }
  ASSERT_NE(mine, nullptr) << "the reactivated conversation should hold 2 messages";
  auto messages = all_messages(key, str(*mine, "id"));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(num(messages[0], "seq"), 2);
  EXPECT_EQ(str(messages[0], "text"), "again");
}

TEST_F(Lifecycle, MergingTwoContactsMakesOneConversation) {
  send("wamid.m.1", "15550102001", "from a", 1'790'000'000);
  send("wamid.m.2", "15550102002", "from b", 1'790'000'050);
  send("wamid.m.3", "15550102001", "a again", 1'790'000'100);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 2u);
  std::string a, b;
  for (const auto& c : convs) {
    const auto& contact = c.as_object().at("contact");
    (num(c, "message_count") == 2 ? a : b) = str(contact, "id");
  }
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  auto merged = public_request("POST", "/v1/contacts/" + a + "/merge", "{\"other_contact_id\":\"" + b + "\"}",
                               {"Authorization: Bearer " + key});
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(num(merged.json, "message_count"), 3);
  convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(convs[0].as_object().at("contact").as_object().at("identities").as_array().size(), 2u);
  EXPECT_EQ(all_messages(key, str(convs[0], "id")).size(), 3u);
  // The other contact is gone; new messages from either number land in the merged one.
  EXPECT_EQ(public_request("POST", "/v1/contacts/" + b + "/merge", "{\"other_contact_id\":\"" + a + "\"}",
                           {"Authorization: Bearer " + key}).status, 404);
  send("wamid.m.4", "15550102002", "b after", 1'790'000'200);
  send("wamid.m.2", "15550102002", "from b", 1'790'000'050);  // redelivery of a moved message
  convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(num(convs[0], "message_count"), 4);
  // Merging needs the send scope; a key of another tenant cannot see the contact.
  auto [read_id, read_key] = create_api_key("acme", {"read"});
  EXPECT_EQ(public_request("POST", "/v1/contacts/" + a + "/merge", "{\"other_contact_id\":\"" + b + "\"}",
                           {"Authorization: Bearer " + read_key}).status, 403);
  auto other = create_tenant("other");
  EXPECT_EQ(public_request("POST", "/v1/contacts/" + a + "/merge", "{\"other_contact_id\":\"" + b + "\"}",
                           {"Authorization: Bearer " + other}).status, 404);
}

TEST_F(Lifecycle, AKnownSenderWhoSharesAnotherContactsPhoneIsMergedIntoIt) {
  telegram_channel telegram;
  auto tg_id = create_channel("acme", telegram.to_json());
  // The Telegram user writes first, then a WhatsApp customer, then the Telegram user
  // shares their own contact card with the WhatsApp number: one customer after all.
  auto tg = signed_telegram(telegram, tg_id, telegram_text(920001, 7700110011, "Ida", "hello from telegram", 1'790'000'000));
  ASSERT_EQ(public_request("POST", tg.path, tg.body, tg.headers).status, 200);
  send("wamid.link.1", "15550104444", "hello from whatsapp", 1'790'000'010);
  ASSERT_EQ(all_conversations(key).size(), 2u);
  auto card = signed_telegram(telegram, tg_id, telegram_contact(920002, 7700110011, "Ida", "+1 555 010 4444", 1'790'000'020));
  ASSERT_EQ(public_request("POST", card.path, card.body, card.headers).status, 200);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(convs[0].as_object().at("contact").as_object().at("identities").as_array().size(), 2u);
  EXPECT_EQ(num(convs[0], "message_count"), 3);
  // Later messages of either identity land there too.
  auto again = signed_telegram(telegram, tg_id, telegram_text(920003, 7700110011, "Ida", "still me", 1'790'000'030));
  ASSERT_EQ(public_request("POST", again.path, again.body, again.headers).status, 200);
  convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(num(convs[0], "message_count"), 4);
}

TEST_F(Lifecycle, ConsentCanBeSetThroughTheApi) {
  send("wamid.c.1", "15550105555", "hi", 1'790'000'000);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  std::string contact = str(convs[0].as_object().at("contact"), "id");
  auto put = [&](const std::string& who, const std::string& body, const std::string& api_key) {
    return public_request("PUT", "/v1/contacts/" + who + "/consent", body, {"Authorization: Bearer " + api_key});
  };
  auto r = put(contact, "{\"channel_id\":\"" + wa_id + "\",\"opted_in\":false}", key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str(r.json, "consent"), "opted_out");
  EXPECT_EQ(str(member(all_conversations(key)[0], "consent"), wa_id), "opted_out");
  // The change is an event, and survives a restart.
  std::size_t consent_events = 0;
  for (const auto& e : all_events(key)) consent_events += str(e, "type") == "conversation.consent" ? 1 : 0;
  EXPECT_EQ(consent_events, 1u);
  restart();
  EXPECT_EQ(str(member(all_conversations(key)[0], "consent"), wa_id), "opted_out");
  EXPECT_EQ(put(contact, "{\"channel_id\":\"" + wa_id + "\",\"opted_in\":true}", key).status, 200);
  EXPECT_EQ(str(member(all_conversations(key)[0], "consent"), wa_id), "opted_in");
  // Bad input and other tenants.
  EXPECT_EQ(put(contact, "{\"channel_id\":\"ch_nope\",\"opted_in\":true}", key).status, 404);
  EXPECT_EQ(put(contact, "{\"channel_id\":\"" + wa_id + "\"}", key).status, 400);
  EXPECT_EQ(put(contact, "not json", key).status, 400);
  EXPECT_EQ(put("ct_aaaaaaaaaaaaaaaaaaaa", "{\"channel_id\":\"" + wa_id + "\",\"opted_in\":true}", key).status, 404);
  auto other = create_tenant("other-consent");
  EXPECT_EQ(put(contact, "{\"channel_id\":\"" + wa_id + "\",\"opted_in\":true}", other).status, 404);
  auto [read_id, read_key] = create_api_key("acme", {"read"});
  EXPECT_EQ(put(contact, "{\"channel_id\":\"" + wa_id + "\",\"opted_in\":true}", read_key).status, 403);
}

TEST_F(Lifecycle, SigtermAfterTrafficExitsCleanly) {
  for (int i = 0; i < 50; ++i) send("wamid.t." + std::to_string(i), "1555010" + std::to_string(3000 + i), "x", 1'790'000'000);
  restart();  // SIGTERM, expects exit 0, starts again
  EXPECT_EQ(all_conversations(key).size(), 50u);
}

}  // namespace
}  // namespace parley::testing
