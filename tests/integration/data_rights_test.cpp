// End-to-end: the data rights of the admin API against the real parleyd: streamed
// exports (a tenant far larger than one response piece, one contact), erasure of a
// contact and of one message, and the purge of a deleted tenant, checked afterwards in
// the SST files of the stopped engine's store (no key with the tenant's prefix remains).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "parley/storage/keys.hpp"
#include "parley/storage/records.hpp"
#include "parley/storage/store.hpp"
#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

constexpr const char* master_key_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

class DataRights : public parley_fixture {
 protected:
  parleyd_options options() const override {
    return {{"--retention-sweep-seconds", "1"}, {std::string("PARLEY_MASTER_KEY=") + master_key_b64}};
  }

  json_reply post(const webhook& w) const { return public_request("POST", w.path, w.body, w.headers); }

  /// `count` WhatsApp texts from `from`, 50 per webhook body; returns their texts.
  std::vector<std::string> flood(const meta_channel& ch, const std::string& channel_id, const std::string& from,
                                 int count, const std::string& tag) const {
    std::vector<std::string> texts;
    for (int at = 0; at < count; at += 50) {
      std::vector<wa_message> batch;
      for (int i = at; i < std::min(count, at + 50); ++i) {
        std::string text = tag + " message " + std::to_string(i) + " " + std::string(200, 'x');
        batch.push_back({"wamid." + tag + "." + from + "." + std::to_string(i), from, text, unix_now_s() - 60});
        texts.push_back(text);
      }
      auto r = post(signed_meta(ch, channel_id, whatsapp_messages(ch.account_id, batch)));
      EXPECT_EQ(r.status, 200) << r.body;
    }
    return texts;
  }

  http_reply admin_stream(const std::string& path) const {
    auto r = http_request(admin_addr(), "GET", path, {}, {std::string("Authorization: Bearer ") + fixture_admin_token});
    EXPECT_TRUE(r.has_value());
    return r.value_or(http_reply{});
  }

  static std::vector<json::value> ndjson(const std::string& body) {
    std::vector<json::value> out;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      auto v = parse_json(line);
      EXPECT_TRUE(v.is_object()) << line;
      out.push_back(std::move(v));
    }
    return out;
  }

  /// Waits (bounded) until the metric reaches `at_least`.
  bool metric_reaches(const std::string& name, double at_least) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = admin("GET", "/metrics");
      std::istringstream in(m.body);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind(name + " ", 0) == 0 && std::stod(line.substr(name.size() + 1)) >= at_least) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling a remote counter: no event to await
    }
    return false;
  }

  /// The engine's store, opened after it stopped (same master key).
  std::unique_ptr<storage::store> open_store() {
    storage::store_options o;
    o.path = data_dir() + "/db";
    o.master_key = storage::aead_key::from_base64(master_key_b64).value();
    o.retention = std::make_shared<storage::retention_policy>(system_clock::instance());
    auto s = storage::store::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.err().message;
    return s ? std::move(*s) : nullptr;
  }
};

TEST_F(DataRights, TenantExportStreamsEveryRecordDecryptedAndMatchesTheTenantsCounts) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  telegram_channel tg;
  std::string wa_id = create_channel("acme", wa.to_json());
  std::string tg_id = create_channel("acme", tg.to_json());
  // ~1,200 messages of ~250 bytes: the export is many times one 64 KiB response piece.
  auto texts = flood(wa, wa_id, "15550100001", 600, "a");
  auto more = flood(wa, wa_id, "15550100002", 600, "b");
  texts.insert(texts.end(), more.begin(), more.end());
  ASSERT_EQ(post(signed_telegram(tg, tg_id, telegram_text(7001, 4242, "Tess", "hello from telegram", unix_now_s() - 5))).status, 200);
  texts.push_back("hello from telegram");

  auto r = admin_stream("/v1/admin/tenants/acme/export");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_TRUE(r.chunked);
  EXPECT_FALSE(r.truncated);
  EXPECT_GT(r.chunks, 4u);  // streamed in pieces, not built whole
  EXPECT_NE(r.headers.find("content-type: application/x-ndjson"), std::string::npos) << r.headers;
  auto lines = ndjson(r.body);
  std::map<std::string, int> kinds;
  std::multiset<std::string> exported_texts;
  for (const auto& l : lines) {
    ++kinds[str(l, "kind")];
    if (str(l, "kind") == "message") exported_texts.insert(str(l, "text"));
  }
  EXPECT_EQ(kinds["tenant"], 1);
  EXPECT_EQ(kinds["channel"], 2);
  EXPECT_EQ(kinds["contact"], 3);
  EXPECT_EQ(kinds["conversation"], 3);
  EXPECT_EQ(kinds["message"], static_cast<int>(texts.size()));
  EXPECT_EQ(exported_texts, std::multiset<std::string>(texts.begin(), texts.end()));  // decrypted, every one
  EXPECT_EQ(lines.front().as_object().at("kind").as_string(), "tenant");
  for (const auto& l : lines) {
    // Channel secrets never leave, not even in an export.
    EXPECT_EQ(json::serialize(l).find(wa.app_secret), std::string::npos);
    EXPECT_EQ(json::serialize(l).find(tg.bot_token), std::string::npos);
  }
  // The conversations' own counts agree with the export.
  int counted = 0;
  for (const auto& c : all_conversations(key)) counted += static_cast<int>(num(c, "message_count"));
  EXPECT_EQ(counted, kinds["message"]);

  EXPECT_EQ(admin("GET", "/v1/admin/tenants/nobody/export").status, 404);
  EXPECT_EQ(admin_raw("GET", "/v1/admin/tenants/acme/export", "", {}).status, 401);
}

TEST_F(DataRights, ContactExportHoldsOnlyThatContact) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  std::string wa_id = create_channel("acme", wa.to_json());
  flood(wa, wa_id, "15550100001", 3, "a");
  flood(wa, wa_id, "15550100002", 5, "b");
  std::string contact;
  for (const auto& c : all_conversations(key)) {
    if (num(c, "message_count") == 3) contact = str(member(c, "contact"), "id");
  }
  ASSERT_FALSE(contact.empty());
  auto r = admin_stream("/v1/admin/tenants/acme/contacts/" + contact + "/export");
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = ndjson(r.body);
  ASSERT_EQ(lines.size(), 5u);  // contact, conversation, 3 messages
  EXPECT_EQ(str(lines[0], "kind"), "contact");
  EXPECT_EQ(str(lines[0], "id"), contact);
  EXPECT_EQ(str(arr(lines[0], "identities").at(0), "external_id"), "15550100001");
  EXPECT_EQ(str(lines[1], "kind"), "conversation");
  for (std::size_t i = 2; i < lines.size(); ++i) {
    EXPECT_EQ(str(lines[i], "kind"), "message");
    EXPECT_EQ(str(lines[i], "text").rfind("a message", 0), 0u) << str(lines[i], "text");
  }
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/contacts/ct_unknown0000/export").status, 404);
  create_tenant("beta");
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/beta/contacts/" + contact + "/export").status, 404);  // wrong tenant
}

TEST_F(DataRights, ErasedContactIsGoneEverywhereAtOnceAndFromDiskAfterwards) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  std::string wa_id = create_channel("acme", wa.to_json());
  flood(wa, wa_id, "15550100001", 20, "gone");
  flood(wa, wa_id, "15550100002", 7, "kept");
  std::string gone, kept, gone_conv, gone_msg;
  for (const auto& c : all_conversations(key)) {
    if (num(c, "message_count") == 20) {
      gone = str(member(c, "contact"), "id");
      gone_conv = str(c, "id");
    } else {
      kept = str(member(c, "contact"), "id");
    }
  }
  ASSERT_FALSE(gone.empty());
  gone_msg = str(all_messages(key, gone_conv).at(0), "id");

  auto del = admin("DELETE", "/v1/admin/tenants/acme/contacts/" + gone);
  ASSERT_EQ(del.status, 202) << del.body;
  EXPECT_EQ(str(del.json, "status"), "erasing");
  // Unreadable at once, through every route.
  EXPECT_EQ(tenant_get(key, "/v1/conversations/" + gone_conv).status, 404);
  EXPECT_EQ(tenant_get(key, "/v1/conversations/" + gone_conv + "/messages").status, 404);
  EXPECT_EQ(tenant_get(key, "/v1/messages/" + gone_msg).status, 404);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/contacts/" + gone + "/export").status, 404);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(str(member(convs[0], "contact"), "id"), kept);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/contacts/" + gone).status, 404);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/beta/contacts/" + kept).status, 404);

  // The follow-up removes the events and raw payloads that name them.
  ASSERT_TRUE(metric_reaches("parley_retention_contacts_erased_total", 1));
  for (const auto& e : all_events(key)) EXPECT_EQ(json::serialize(e).find(gone), std::string::npos) << json::serialize(e);
  // The same number writing again is a new customer, with nothing of the old one.
  flood(wa, wa_id, "15550100001", 1, "later");
  bool fresh = false;
  for (const auto& c : all_conversations(key)) {
    if (str(member(c, "contact"), "id") == gone) ADD_FAILURE() << "the erased contact came back";
    if (num(c, "message_count") == 1) fresh = true;
  }
  EXPECT_TRUE(fresh);
  auto audit = admin("GET", "/v1/admin/audit?tenant=acme");
  EXPECT_NE(audit.body.find("contact.erase"), std::string::npos) << audit.body;

  stop();
  auto db = open_store();
  ASSERT_TRUE(db);
  EXPECT_EQ(db->count_in_files(storage::family::messages, storage::message_prefix("acme", gone)).value(), 0u);
  EXPECT_EQ(db->count_in_files(storage::family::messages, storage::message_prefix("acme", kept)).value(), 7u);
  EXPECT_EQ(db->count_in_files(storage::family::conversations, storage::conversation_key("acme", gone)).value(), 0u);
  int raws = 0;
  {
    auto raw = db->scan(storage::family::raw_webhooks, storage::key_builder().str("acme").take());
    storage::record rec;
    while (raw->next(rec)) {
      ++raws;
      EXPECT_EQ(rec.body.find("gone message"), std::string::npos);
    }
  }  // the cursor goes before the store
  EXPECT_GT(raws, 0);  // the other customer's payloads stay
  db.reset();
  start();
}

TEST_F(DataRights, ForgettingOneMessageLeavesTheRestOfTheConversation) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  std::string wa_id = create_channel("acme", wa.to_json());
  flood(wa, wa_id, "15550100001", 3, "a");
  auto conv = all_conversations(key).at(0);
  std::string conv_id = str(conv, "id");
  auto messages = all_messages(key, conv_id);
  ASSERT_EQ(messages.size(), 3u);
  std::string doomed = str(messages[1], "id");

  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/messages/" + doomed).status, 204);
  EXPECT_EQ(tenant_get(key, "/v1/messages/" + doomed).status, 404);
  auto left = all_messages(key, conv_id);
  ASSERT_EQ(left.size(), 2u);
  for (const auto& m : left) EXPECT_NE(str(m, "id"), doomed);
  EXPECT_EQ(num(tenant_get(key, "/v1/conversations/" + conv_id).json, "message_count"), 2);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/messages/" + doomed).status, 404);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/messages/msg_nonsense").status, 404);
  create_tenant("beta");
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/beta/messages/" + str(left[0], "id")).status, 404);  // wrong tenant
  EXPECT_EQ(tenant_get(key, "/v1/messages/" + str(left[0], "id")).status, 200);
  // A restart changes nothing: the message stays forgotten.
  restart();
  EXPECT_EQ(tenant_get(key, "/v1/messages/" + doomed).status, 404);
  EXPECT_EQ(all_messages(key, conv_id).size(), 2u);
}

TEST_F(DataRights, DeletedTenantIsPurgedUntilNoKeyWithItsPrefixRemains) {
  std::string doomed_key = create_tenant("doomed");
  std::string kept_key = create_tenant("kept");
  meta_channel wa;
  meta_channel wa2;
  wa2.account_id = "222222222222222";
  std::string doomed_ch = create_channel("doomed", wa.to_json());
  std::string kept_ch = create_channel("kept", wa2.to_json());
  flood(wa, doomed_ch, "15550100001", 200, "d");
  flood(wa, doomed_ch, "15550100003", 100, "d2");
  flood(wa2, kept_ch, "15550100002", 100, "k");

  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/doomed").status, 202);
  ASSERT_TRUE(metric_reaches("parley_retention_tenants_purged_total", 1));
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/doomed").status, 404);  // gone, and the id is free
  auto audit = admin("GET", "/v1/admin/audit?tenant=doomed");
  EXPECT_NE(audit.body.find("tenant.purged"), std::string::npos) << audit.body;
  auto again = admin("POST", "/v1/admin/tenants", R"({"id":"doomed"})");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_TRUE(all_conversations(str(again.json, "api_key")).empty());
  EXPECT_EQ(all_conversations(kept_key).size(), 1u);
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/doomed").status, 202);
  ASSERT_TRUE(metric_reaches("parley_retention_tenants_purged_total", 2));

  stop();
  auto db = open_store();
  ASSERT_TRUE(db);
  auto prefix = storage::key_builder().str("doomed").take();
  for (auto f : {storage::family::messages, storage::family::conversations, storage::family::identities,
                 storage::family::raw_webhooks, storage::family::outbox, storage::family::events}) {
    EXPECT_EQ(db->count_in_files(f, prefix).value(), 0u) << storage::family_name(f);
  }
  EXPECT_EQ(db->count_in_files(storage::family::dedup, storage::key_builder().str(doomed_ch).take()).value(), 0u);
  EXPECT_EQ(db->count_in_files(storage::family::dedup, storage::key_builder().str(kept_ch).take()).value(), 100u);
  EXPECT_EQ(db->count_in_files(storage::family::messages, storage::key_builder().str("kept").take()).value(), 100u);
  for (auto kind : {storage::meta_kind::tenant, storage::meta_kind::tenant_key, storage::meta_kind::channel,
                    storage::meta_kind::usage, storage::meta_kind::purge}) {
    auto p = storage::key_builder().u8(static_cast<std::uint8_t>(kind)).str("doomed").take();
    EXPECT_EQ(db->count_in_files(storage::family::meta, p).value(), 0u) << static_cast<int>(kind);
  }
  db.reset();
  start();
  EXPECT_EQ(all_conversations(kept_key).size(), 1u);
  (void)doomed_key;
}

TEST_F(DataRights, UsagePerDayCountsMessagesDuplicatesSendsAndReplyLatency) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  auto wa_json = parse_json(wa.to_json());
  wa_json.as_object()["api_base"] = "http://127.0.0.1:1";  // sends are accepted; delivery reaches no one
  std::string wa_id = create_channel("acme", json::serialize(wa_json));
  meta_channel fb;
  fb.type = "messenger";
  fb.account_id = "900000000000001";
  std::string fb_id = create_channel("acme", fb.to_json());

  flood(wa, wa_id, "15550100001", 10, "u");
  flood(wa, wa_id, "15550100001", 10, "u");  // the same ten again: redeliveries
  // A Messenger customer writes and the page answers 3 s later from its inbox (an echo).
  std::int64_t t0 = unix_now_ms() - 10'000;
  ASSERT_EQ(post(signed_meta(fb, fb_id, meta_messaging_text("page", fb.account_id, "psid-77", "m_in_1", "hi", t0))).status, 200);
  ASSERT_EQ(post(signed_meta(fb, fb_id, messenger_echo(fb.account_id, "psid-77", "m_echo_1", "hello!", t0 + 3000))).status, 200);
  auto sent = public_request("POST", "/v1/messages",
                             R"({"channel_id":")" + wa_id + R"(","to":"15550100001","type":"text","text":{"body":"thanks"}})",
                             {"Authorization: Bearer " + key});
  ASSERT_EQ(sent.status, 202) << sent.body;

  std::string today = rfc3339(unix_now_s()).substr(0, 10);
  json::value day;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {  // the meter reaches storage about once a second
    auto r = admin("GET", "/v1/admin/tenants/acme/usage?from=" + today + "&to=" + today);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(arr(r.json, "days").size(), 1u) << r.body;
    day = arr(r.json, "days").at(0);
    if ((num(day, "inbound") >= 12 && num(day, "outbound") >= 1) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling a remote figure
  }
  EXPECT_EQ(str(day, "date"), today);
  EXPECT_EQ(num(day, "inbound"), 12) << json::serialize(day);  // 10 WhatsApp + the Messenger message + its echo
  EXPECT_EQ(num(day, "duplicates"), 10) << json::serialize(day);
  EXPECT_EQ(num(day, "outbound"), 1) << json::serialize(day);
  EXPECT_EQ(num(day, "delivered"), 0);
  const auto& latency = member(day, "reply_latency_ms");
  ASSERT_TRUE(latency.is_object()) << json::serialize(day);
  // Two replies: the echo after 3 s, and the API send after the WhatsApp customer's wait.
  ASSERT_TRUE(latency.as_object().at("p50").is_number()) << json::serialize(day);
  double p50 = latency.as_object().at("p50").to_number<double>();
  EXPECT_GT(p50, 3000 * 0.9) << json::serialize(day);
  EXPECT_LT(p50, 3000 * 1.1) << json::serialize(day);

  // The default range is the last 30 days, oldest first, every day listed.
  auto month = admin("GET", "/v1/admin/tenants/acme/usage");
  ASSERT_EQ(month.status, 200);
  ASSERT_EQ(arr(month.json, "days").size(), 30u);
  EXPECT_EQ(str(arr(month.json, "days").back(), "date"), today);
  EXPECT_EQ(num(arr(month.json, "days").front(), "inbound"), 0);
  EXPECT_TRUE(member(member(arr(month.json, "days").front(), "reply_latency_ms"), "p50").is_null());
  // Figures survive a restart (stored, not only in memory).
  restart();
  auto after = admin("GET", "/v1/admin/tenants/acme/usage?from=" + today + "&to=" + today);
  EXPECT_EQ(num(arr(after.json, "days").at(0), "inbound"), 12) << after.body;

  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/usage?from=2026-02-30").status, 400);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/usage?from=2026-13-01").status, 400);
  auto leap = admin("GET", "/v1/admin/tenants/acme/usage?from=2024-02-28&to=2024-03-01");
  ASSERT_EQ(leap.status, 200) << leap.body;
  EXPECT_EQ(arr(leap.json, "days").size(), 3U) << leap.body;  // the 28th, the 29th, March 1st
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/usage?from=yesterday").status, 400);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/usage?from=2026-11-02&to=2026-11-01").status, 400);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/usage?from=2020-01-01&to=2026-01-01").status, 400);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/nobody/usage").status, 404);
}

}  // namespace
}  // namespace parley::testing
