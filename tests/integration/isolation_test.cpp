// Tenant isolation, as a matrix: for every tenant API route, tenant B's keys (read+send,
// read-only, send-only) against tenant A's channels, contacts, conversations, messages
// and events. B must get 404 (or A's data must simply be absent from B's lists), never
// 403 or 200, and no answer may carry any of A's ids or content.
#include <gtest/gtest.h>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

class Isolation : public parley_fixture {
 protected:
  struct tenant_data {
    std::string key, channel, conversation, contact, message, telegram_channel;
  };

  tenant_data populate(const std::string& id, const std::string& sender, const std::string& text) {
    tenant_data d;
    d.key = create_tenant(id);
    meta_channel ch;
    d.channel = create_channel(id, ch.to_json());
    telegram_channel tg;
    d.telegram_channel = create_channel(id, tg.to_json());
    auto hook = signed_meta(ch, d.channel, whatsapp_text(ch.account_id, wa_message{"wamid.iso-" + id, sender, text, unix_now_s()}));
    EXPECT_EQ(public_request("POST", hook.path, hook.body, hook.headers).status, 200);
    auto convs = all_conversations(d.key);
    EXPECT_EQ(convs.size(), 1u);
    d.conversation = str(convs.at(0), "id");
    d.contact = str(member(convs.at(0), "contact"), "id");
    d.message = str(all_messages(d.key, d.conversation).at(0), "id");
    return d;
  }

  json_reply call(const std::string& key, const std::string& method, const std::string& path, const std::string& body = {}) {
    std::vector<std::string> headers;
    if (!key.empty()) headers.push_back("Authorization: Bearer " + key);
    return public_request(method, path, body, headers);
  }
};

TEST_F(Isolation, NoTenantKeyReachesAnotherTenantsData) {
  auto a = populate("tenant-a", "15550109001", "secret plans of tenant A");
  auto b = populate("tenant-b", "15550109002", "tenant B says hi");
  auto [b_read_id, b_read] = create_api_key("tenant-b", {"read"});
  auto [b_send_id, b_send] = create_api_key("tenant-b", {"send"});
  const std::vector<std::string> b_keys = {b.key, b_read, b_send};
  // What must never leak into any of B's answers.
  const std::vector<std::string> a_marks = {a.conversation, a.contact, a.message, a.channel, a.telegram_channel,
                                            "secret plans of tenant A", "15550109001"};
  auto leaks = [&](const json_reply& r) {
    for (const auto& m : a_marks) {
      if (r.body.find(m) != std::string::npos) return m;
    }
    return std::string();
  };

  struct probe {
    std::string method, path, body;
  };
  json::object send_on_a{{"channel_id", a.channel}, {"to", "15550109001"}, {"type", "template"},
                         {"template", json::object{{"name", "t"}, {"language", "en_US"}}}};
  json::object send_to_a_contact{{"channel_id", b.channel}, {"contact_id", a.contact}, {"type", "template"},
                                 {"template", json::object{{"name", "t"}, {"language", "en_US"}}}};
  const std::vector<probe> reads = {
      {"GET", "/v1/conversations/" + a.conversation, ""},
      {"GET", "/v1/conversations/" + a.conversation + "/messages", ""},
      {"GET", "/v1/messages/" + a.message, ""},
  };
  const std::vector<probe> writes = {
      {"POST", "/v1/messages", json::serialize(send_on_a)},
      {"POST", "/v1/messages", json::serialize(send_to_a_contact)},
      {"POST", "/v1/contacts/" + a.contact + "/merge", R"({"other_contact_id":")" + b.contact + "\"}"},
      {"POST", "/v1/contacts/" + b.contact + "/merge", R"({"other_contact_id":")" + a.contact + "\"}"},
      {"PUT", "/v1/contacts/" + a.contact + "/consent", R"({"channel_id":")" + b.channel + R"(","opted_in":false})"},
      {"PUT", "/v1/contacts/" + b.contact + "/consent", R"({"channel_id":")" + a.channel + R"(","opted_in":false})"},
  };
  for (const auto& k : b_keys) {
    bool can_read = k != b_send;
    bool can_send = k != b_read;
    for (const auto& p : reads) {
      auto r = call(k, p.method, p.path, p.body);
      // A key without the read scope is refused for the scope before anything is looked up.
      EXPECT_EQ(r.status, can_read ? 404 : 403) << p.method << " " << p.path << " -> " << r.body;
      EXPECT_EQ(leaks(r), "") << p.path;
    }
    for (const auto& p : writes) {
      auto r = call(k, p.method, p.path, p.body);
      EXPECT_EQ(r.status, can_send ? 404 : 403) << p.method << " " << p.path << " " << p.body << " -> " << r.body;
      EXPECT_EQ(leaks(r), "") << p.path;
    }
    json::object batch{{"messages", json::array{send_on_a, send_to_a_contact}}};
    auto r = call(k, "POST", "/v1/messages/batch", json::serialize(batch));
    if (can_send) {
      ASSERT_EQ(r.status, 200) << r.body;
      for (const auto& item : arr(r.json, "results")) EXPECT_FALSE(member(item, "error").is_null()) << r.body;
    } else {
      EXPECT_EQ(r.status, 403);
    }
    EXPECT_EQ(leaks(r), "");
    if (can_read) {
      // B's lists and feed hold only B's data.
      for (const auto& path : {std::string("/v1/conversations"), std::string("/v1/events"), std::string("/v1/events?wait=1")}) {
        auto list = call(k, "GET", path);
        EXPECT_EQ(list.status, 200) << path;
        EXPECT_EQ(leaks(list), "") << path;
      }
      EXPECT_EQ(all_conversations(k).size(), 1u);
    }
  }
  // A's data is untouched by all of that: one conversation, its message, consent unknown.
  auto convs = all_conversations(a.key);
  ASSERT_EQ(convs.size(), 1u);
  EXPECT_EQ(str(member(convs.at(0), "consent"), a.channel), "unknown");
  EXPECT_EQ(all_messages(a.key, a.conversation).size(), 1u);
  // A's own key does see it all.
  EXPECT_EQ(tenant_get(a.key, "/v1/messages/" + a.message).status, 200);
}

TEST_F(Isolation, AKeyOfADeletedTenantStopsAtOnceAndLeavesOthersAlone) {
  auto a = populate("gone", "15550109011", "soon gone");
  auto b = populate("staying", "15550109012", "still here");
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/gone").status, 202);
  for (const auto& path : {std::string("/v1/conversations"), std::string("/v1/events"), "/v1/messages/" + a.message}) {
    EXPECT_EQ(tenant_get(a.key, path).status, 401) << path;
  }
  EXPECT_EQ(call(a.key, "POST", "/v1/messages", R"({"channel_id":")" + a.channel + R"(","to":"1","type":"text","text":{"body":"x"}})").status,
            401);
  EXPECT_EQ(tenant_get(b.key, "/v1/messages/" + b.message).status, 200);
  EXPECT_EQ(tenant_get(b.key, "/v1/messages/" + a.message).status, 404);
}

}  // namespace
}  // namespace parley::testing
