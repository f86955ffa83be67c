// End-to-end: the admin API of the real parleyd (tenants, channels, API keys) and what
// its mutations do to the public listener (keys, webhooks), also across restarts.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <algorithm>
#include <tuple>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

class AdminApi : public parley_fixture {
 protected:
  json_reply post(const webhook& w) const { return public_request("POST", w.path, w.body, w.headers); }

  /// A signed one-message WhatsApp webhook for channel `id`.
  webhook wa_webhook(const meta_channel& ch, const std::string& id, const std::string& wamid) const {
    return signed_meta(ch, id, whatsapp_text(ch.account_id, {wamid, "15550102001", "hello admin", unix_now_s() - 5}));
  }

  /// GET of the tenant is 200 "purging", or 404 once the purge finished; never active.
  void expect_purging_or_gone(const std::string& tid) const {
    auto r = admin("GET", "/v1/admin/tenants/" + tid);
    if (r.status == 200) {
      EXPECT_EQ(str(r.json, "status"), "purging") << r.body;
    } else {
      EXPECT_EQ(r.status, 404) << r.body;
    }
    auto list = admin("GET", "/v1/admin/tenants");
    for (const auto& t : arr(list.json, "tenants")) {
      if (str(t, "id") == tid) {
        EXPECT_EQ(str(t, "status"), "purging") << list.body;
      }
    }
  }

  /// Fails when any of `secrets` occurs in `text`.
  static void expect_no_secret(const std::string& text, const std::vector<std::string>& secrets, const std::string& where) {
    for (const auto& s : secrets) EXPECT_EQ(text.find(s), std::string::npos) << "secret '" << s << "' in " << where << ": " << text;
  }
};

// ---- authentication ------------------------------------------------------------------------

TEST_F(AdminApi, EveryAdminRouteRefusesAMissingOrWrongToken) {
  std::string key = create_tenant("acme");
  std::string ch = create_channel("acme", meta_channel{}.to_json());
  auto [kid, extra] = create_api_key("acme", {"read"});
  std::vector<std::tuple<std::string, std::string, std::string>> routes = {
      {"POST", "/v1/admin/tenants", R"({"id":"intruder"})"},
      {"GET", "/v1/admin/tenants", ""},
      {"GET", "/v1/admin/tenants/acme", ""},
      {"DELETE", "/v1/admin/tenants/acme", ""},
      {"POST", "/v1/admin/tenants/acme/api-keys", R"({"scopes":["read"]})"},
      {"DELETE", "/v1/admin/tenants/acme/api-keys/" + kid, ""},
      {"POST", "/v1/admin/tenants/acme/channels", meta_channel{}.to_json()},
      {"GET", "/v1/admin/tenants/acme/channels", ""},
      {"GET", "/v1/admin/tenants/acme/channels/" + ch, ""},
      {"DELETE", "/v1/admin/tenants/acme/channels/" + ch, ""},
      {"PATCH", "/v1/admin/tenants/acme", R"({"name":"taken over"})"},
      {"GET", "/v1/admin/tenants/acme/events-webhook", ""},
      {"PUT", "/v1/admin/tenants/acme/events-webhook/cursor", R"({"cursor":"0"})"},
  };
  std::vector<std::vector<std::string>> bad_headers = {
      {},
      {"Authorization: Bearer wrong-token"},
      {std::string("Authorization: Bearer ") + fixture_admin_token + "x"},
      {std::string("Authorization: Basic ") + fixture_admin_token},
      {std::string("Authorization: ") + fixture_admin_token},
      {"Authorization: Bearer " + key},  // a tenant API key is not an admin token
  };
  for (const auto& [method, path, body] : routes) {
    for (const auto& headers : bad_headers) {
      auto r = admin_raw(method, path, body, headers);
      EXPECT_EQ(r.status, 401) << method << " " << path << " with " << (headers.empty() ? "no header" : headers[0]);
      EXPECT_EQ(error_code(r), "unauthorized") << r.body;
    }
  }
  // Nothing happened: tenant, channel and keys are all still there.
  EXPECT_EQ(str(admin("GET", "/v1/admin/tenants/acme").json, "status"), "active");
  EXPECT_EQ(str(admin("GET", "/v1/admin/tenants/acme").json, "name"), "Tenant acme") << "the PATCH did nothing";
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/intruder").status, 404);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/channels/" + ch).status, 200);
  EXPECT_EQ(tenant_get(extra, "/v1/conversations").status, 200);
  EXPECT_EQ(tenant_get(key, "/v1/conversations").status, 200);
  // Health, readiness and metrics need no token.
  EXPECT_EQ(admin_raw("GET", "/healthz", "", {}).status, 200);
  EXPECT_EQ(admin_raw("GET", "/readyz", "", {}).status, 200);
}

// ---- tenants ---------------------------------------------------------------------------------

TEST_F(AdminApi, PatchChangesOnlyTheGivenFieldsAndSurvivesARestart) {
  auto created = admin("POST", "/v1/admin/tenants",
                       R"({"id":"patchy","name":"Patchy","limits":{"send_requests_per_second":5},)"
                       R"("retention":{"messages_days":30,"raw_webhooks_days":10,"events_days":3}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto r = admin("PATCH", "/v1/admin/tenants/patchy",
                 R"({"limits":{"monthly_outbound_quota":1000},"retention":{"messages_days":7},)"
                 R"("events_webhook":{"url":"https://hooks.example/parley","secret":"whsec-patch-1"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto check = [&](const json_reply& t) {
    EXPECT_EQ(str(t.json, "name"), "Patchy");
    EXPECT_EQ(num(member(t.json, "limits"), "send_requests_per_second"), 5);
    EXPECT_EQ(num(member(t.json, "limits"), "monthly_outbound_quota"), 1000);
    EXPECT_EQ(num(member(t.json, "retention"), "messages_days"), 7);
    EXPECT_EQ(num(member(t.json, "retention"), "raw_webhooks_days"), 10);
    EXPECT_EQ(num(member(t.json, "retention"), "events_days"), 3);
    EXPECT_EQ(str(member(t.json, "events_webhook"), "url"), "https://hooks.example/parley");
    EXPECT_EQ(str(member(t.json, "events_webhook"), "secret"), "set") << "a secret is never returned";
  };
  check(r);
  check(admin("GET", "/v1/admin/tenants/patchy"));
  restart();
  check(admin("GET", "/v1/admin/tenants/patchy"));
  // null removes the webhook; the push status route then has nothing to show.
  auto cleared = admin("PATCH", "/v1/admin/tenants/patchy", R"({"events_webhook":null})");
  ASSERT_EQ(cleared.status, 200);
  EXPECT_TRUE(member(cleared.json, "events_webhook").is_null());
}

TEST_F(AdminApi, EveryMutationIsAuditedWithoutSecrets) {
  std::string key = create_tenant("audited");
  meta_channel ch;
  std::string channel = create_channel("audited", ch.to_json());
  auto [kid, extra] = create_api_key("audited", {"read"});
  std::string auth = std::string("Authorization: Bearer ") + fixture_admin_token;
  auto patched = admin_raw("PATCH", "/v1/admin/tenants/audited", R"({"name":"Audited Ltd"})", {auth, "X-Request-Id: audit-req-42"});
  ASSERT_EQ(patched.status, 200);
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/audited/api-keys/" + kid).status, 204);
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/audited/channels/" + channel).status, 204);
  create_tenant("bystander");

  auto r = admin("GET", "/v1/admin/audit?tenant=audited");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> actions;
  for (const auto& e : arr(r.json, "entries")) {
    actions.push_back(str(e, "action"));
    EXPECT_EQ(str(e, "tenant"), "audited");
    EXPECT_GT(parse_rfc3339_ms(str(e, "at")), 0);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"channel.delete", "api_key.delete", "tenant.update", "api_key.create",
                                               "channel.create", "tenant.create"}));
  const auto& entries = arr(r.json, "entries");
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(str(entries[2], "request_id"), "audit-req-42");
  EXPECT_EQ(str(entries[0], "target"), channel);
  EXPECT_EQ(str(entries[1], "target"), kid);
  for (const auto& secret : {ch.app_secret, ch.access_token, ch.verify_token, key, extra}) {
    EXPECT_EQ(r.body.find(secret), std::string::npos) << "a secret in the audit log";
  }
  // Without a tenant filter every tenant's entries come, newest first; limit applies.
  auto all = admin("GET", "/v1/admin/audit?limit=2");
  ASSERT_EQ(arr(all.json, "entries").size(), 2u);
  EXPECT_EQ(str(arr(all.json, "entries").at(0), "tenant"), "bystander");
  EXPECT_EQ(admin_raw("GET", "/v1/admin/audit", "", {}).status, 401);
  restart();
  auto after = admin("GET", "/v1/admin/audit?tenant=audited");
  EXPECT_EQ(arr(after.json, "entries").size(), 6u) << "the log is durable";
}

TEST_F(AdminApi, ACheckpointIsADataDirectoryParleydStartsFrom) {
  std::string key = create_tenant("backed-up");
  meta_channel ch;
  std::string channel = create_channel("backed-up", ch.to_json());
  auto before = signed_meta(ch, channel, whatsapp_text(ch.account_id, wa_message{"wamid.cp-1", "15550108001", "before the backup", unix_now_s()}));
  ASSERT_EQ(public_request("POST", before.path, before.body, before.headers).status, 200);

  temp_dir backups;
  std::string path = backups.sub("nightly");
  auto r = admin("POST", "/v1/admin/checkpoints", "{\"path\":\"" + path + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(str(r.json, "path"), path);
  EXPECT_EQ(admin("POST", "/v1/admin/checkpoints", "{\"path\":\"" + path + "\"}").status, 409) << "never overwrites";
  EXPECT_EQ(admin("POST", "/v1/admin/checkpoints", R"({"path":"relative/dir"})").status, 400);
  EXPECT_EQ(admin("POST", "/v1/admin/checkpoints", R"({"path":"/nonexistent-parent-dir/x"})").status, 400);
  EXPECT_EQ(admin("POST", "/v1/admin/checkpoints", R"({})").status, 400);
  EXPECT_EQ(admin_raw("POST", "/v1/admin/checkpoints", "{\"path\":\"" + backups.sub("other") + "\"}", {}).status, 401);

  // Written after the checkpoint: not in it.
  auto after = signed_meta(ch, channel, whatsapp_text(ch.account_id, wa_message{"wamid.cp-2", "15550108002", "after the backup", unix_now_s()}));
  ASSERT_EQ(public_request("POST", after.path, after.body, after.headers).status, 200);

  // Restore: the checkpoint plus the master key (kept apart from backups) is a data dir.
  std::filesystem::copy_file(data_dir() + "/master.key", path + "/master.key");
  child_process restored(PARLEYD_PATH, {"--data-dir", path, "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"},
                         {std::string("PARLEY_ADMIN_TOKEN=") + fixture_admin_token}, backups.sub("restored.log"));
  auto line = restored.read_line(fixture_start_timeout_ms);
  ASSERT_TRUE(line.has_value()) << read_file(backups.sub("restored.log"));
  auto ready = parse_ready_line(*line);
  ASSERT_TRUE(ready.has_value());
  auto convs = http_request(ready->public_addr, "GET", "/v1/conversations", "", {"Authorization: Bearer " + key});
  ASSERT_TRUE(convs.has_value());
  EXPECT_EQ(convs->status, 200);
  EXPECT_NE(convs->body.find("15550108001"), std::string::npos) << convs->body;
  EXPECT_EQ(convs->body.find("15550108002"), std::string::npos) << "written after the checkpoint";
  restored.signal(SIGTERM);
  EXPECT_EQ(restored.wait_exit(fixture_start_timeout_ms), 0);
  // The original carries on with both.
  EXPECT_EQ(all_conversations(key).size(), 2u);
}

TEST_F(AdminApi, PatchRefusesBadFieldsAndUnknownTenants) {
  create_tenant("strict");
  EXPECT_EQ(admin("PATCH", "/v1/admin/tenants/nobody", R"({"name":"x"})").status, 404);
  for (const auto* body : {R"({"limits":{"send_requests_per_second":-1}})", R"({"retention":{"messages_days":"forever"}})",
                           R"({"events_webhook":{"url":"ftp://x","secret":"s"}})", R"({"events_webhook":{"url":"https://x"}})",
                           R"({"id":"renamed"})", R"({"name":""})", "[1,2]", "{not json"}) {
    auto r = admin("PATCH", "/v1/admin/tenants/strict", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
  }
  auto t = admin("GET", "/v1/admin/tenants/strict");
  EXPECT_EQ(str(t.json, "name"), "Tenant strict");
  EXPECT_TRUE(member(t.json, "events_webhook").is_null());
}

TEST_F(AdminApi, CreatedTenantIsListedAndItsKeyShownOnlyOnce) {
  auto created = admin("POST", "/v1/admin/tenants",
                       R"({"id":"acme","name":"Acme Inc","limits":{"send_requests_per_second":25,"monthly_outbound_quota":100000},)"
                       R"("retention":{"messages_days":30,"raw_webhooks_days":14,"events_days":3},)"
                       R"("events_webhook":{"url":"https://hooks.acme.example/parley","secret":"whsec-e2e-very-secret"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(str(created.json, "id"), "acme");
  EXPECT_EQ(str(created.json, "name"), "Acme Inc");
  EXPECT_EQ(str(created.json, "status"), "active");
  EXPECT_EQ(num(member(created.json, "limits"), "send_requests_per_second"), 25);
  EXPECT_EQ(num(member(created.json, "retention"), "events_days"), 3);
  EXPECT_EQ(str(member(created.json, "events_webhook"), "url"), "https://hooks.acme.example/parley");
  EXPECT_GE(parse_rfc3339_ms(str(created.json, "created_at")), 0) << created.body;
  std::string key = str(created.json, "api_key");
  ASSERT_EQ(key.rfind("pk_", 0), 0u) << created.body;
  expect_no_secret(created.body, {"whsec-e2e-very-secret"}, "POST tenants");

  // The key has scopes send and read: it reads.
  EXPECT_EQ(tenant_get(key, "/v1/conversations").status, 200);

  auto one = admin("GET", "/v1/admin/tenants/acme");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(str(one.json, "name"), "Acme Inc");
  EXPECT_EQ(num(member(one.json, "limits"), "monthly_outbound_quota"), 100000);
  EXPECT_EQ(str(member(one.json, "events_webhook"), "secret"), "set") << one.body;
  expect_no_secret(one.body, {"whsec-e2e-very-secret", key}, "GET tenant");

  create_tenant("beta");
  auto list = admin("GET", "/v1/admin/tenants");
  ASSERT_EQ(list.status, 200) << list.body;
  std::vector<std::string> ids;
  for (const auto& t : arr(list.json, "tenants")) ids.push_back(str(t, "id"));
  EXPECT_EQ(ids, (std::vector<std::string>{"acme", "beta"}));
  expect_no_secret(list.body, {"whsec-e2e-very-secret", key}, "GET tenants");

  auto again = admin("POST", "/v1/admin/tenants", R"({"id":"acme","name":"Impostor"})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(error_code(again), "tenant_exists");
  EXPECT_EQ(str(admin("GET", "/v1/admin/tenants/acme").json, "name"), "Acme Inc");

  auto unknown = admin("GET", "/v1/admin/tenants/no-such-tenant");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(error_code(unknown), "not_found");
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/no-such-tenant/channels").status, 404);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/no-such-tenant").status, 404);
}

TEST_F(AdminApi, InvalidRequestsAnswer400AndCreateNothing) {
  struct bad {
    std::string path, body, code, field;
  };
  std::string t = "/v1/admin/tenants";
  std::string c = "/v1/admin/tenants/acme/channels";
  std::string k = "/v1/admin/tenants/acme/api-keys";
  create_tenant("acme");
  std::vector<bad> cases = {
      {t, R"({"id":"Bad_Id"})", "invalid_request", "id"},
      {t, R"({"id":""})", "invalid_request", "id"},
      {t, R"({"id":"has space"})", "invalid_request", "id"},
      {t, R"({"id":")" + std::string(65, 'a') + R"("})", "invalid_request", "id"},
      {t, R"({"name":"no id"})", "invalid_request", "id"},
      {t, R"({"id":42})", "invalid_request", "id"},
      {t, R"({"id":"okay","events_webhook":{"url":"ftp://x.example","secret":"s"}})", "invalid_request", "events_webhook"},
      {t, R"({"id":"okay","events_webhook":{"url":"https://x.example"}})", "invalid_request", "events_webhook"},
      {t, R"({"id":"okay","limits":{"send_requests_per_second":-1}})", "invalid_request", "limits"},
      {t, R"({"id":"okay")", "invalid_json", ""},
      {t, "not json at all", "invalid_json", ""},
      {t, R"(["id","okay"])", "invalid_request", ""},
      {c, R"({"type":"whatsapp","phone_number_ids":["1"],"access_token":"a","verify_token":"v"})", "invalid_request", "app_secret"},
      {c, R"({"type":"whatsapp","app_secret":"s","access_token":"a","verify_token":"v"})", "invalid_request", "phone_number_ids"},
      {c, R"({"type":"whatsapp","phone_number_ids":[],"app_secret":"s","access_token":"a","verify_token":"v"})", "invalid_request", "phone_number_ids"},
      {c, R"({"type":"messenger","phone_number_ids":["1"],"app_secret":"s","access_token":"a","verify_token":"v"})", "invalid_request", "page_ids"},
      {c, R"({"type":"instagram","page_ids":["1"],"app_secret":"s","access_token":"a"})", "invalid_request", "verify_token"},
      {c, R"({"type":"telegram","bot_token":"1:abc"})", "invalid_request", "secret_token"},
      {c, R"({"type":"telegram","bot_token":"1:abc","secret_token":"has spaces!"})", "invalid_request", "secret_token"},
      {c, R"({"type":"telegram","secret_token":"abc"})", "invalid_request", "bot_token"},
      {c, R"({"type":"email","from_address":"a@b.example","server_token":"t","inbound_username":"u"})", "invalid_request", "inbound_password"},
      {c, R"({"type":"sms","phone":"1"})", "invalid_request", "type"},
      {c, R"({"name":"no type"})", "invalid_request", "type"},
      {c, R"({"type":"whatsapp","phone_number_ids":["1"],"app_secret":"s","access_token":"a","verify_token":"v","api_base":"not-a-url"})", "invalid_request", "api_base"},
      {c, R"({"type": )", "invalid_json", ""},
      {k, R"({})", "invalid_request", "scopes"},
      {k, R"({"scopes":[]})", "invalid_request", "scopes"},
      {k, R"({"scopes":["admin"]})", "invalid_request", "scopes"},
      {k, R"({"scopes":"read"})", "invalid_request", "scopes"},
      {k, "{", "invalid_json", ""},
  };
  for (const auto& b : cases) {
    auto r = admin("POST", b.path, b.body);
    EXPECT_EQ(r.status, 400) << b.path << " " << b.body << " -> " << r.body;
    EXPECT_EQ(error_code(r), b.code) << b.body << " -> " << r.body;
    if (!b.field.empty()) {
      EXPECT_NE(str(member(r.json, "error"), "message").find(b.field), std::string::npos)
          << "the message should name " << b.field << ": " << r.body;
    }
  }
  auto tenants = admin("GET", "/v1/admin/tenants");
  EXPECT_EQ(arr(tenants.json, "tenants").size(), 1u) << tenants.body;
  auto channels = admin("GET", c);
  ASSERT_EQ(channels.status, 200);
  EXPECT_TRUE(arr(channels.json, "channels").empty()) << channels.body;

  // Channels and keys of a tenant that does not exist: 404.
  EXPECT_EQ(admin("POST", "/v1/admin/tenants/ghost/channels", telegram_channel{}.to_json()).status, 404);
  EXPECT_EQ(admin("POST", "/v1/admin/tenants/ghost/api-keys", R"({"scopes":["read"]})").status, 404);
}

// ---- channels --------------------------------------------------------------------------------

TEST_F(AdminApi, ChannelSecretsAreNeverReturned) {
  create_tenant("acme");
  meta_channel wa;
  meta_channel ms{"messenger", "2000300040005", "ms-app-secret-Qx81", "ms-access-token-Zp02", "ms-verify-token-Lr55"};
  meta_channel ig{"instagram", "17841400000000777", "ig-app-secret-Vb27", "ig-access-token-Mn63", "ig-verify-token-Hd19"};
  telegram_channel tg;
  postmark_channel pm;
  std::vector<std::string> secrets = {wa.app_secret, wa.access_token, wa.verify_token, ms.app_secret, ms.access_token,
                                      ms.verify_token, ig.app_secret, ig.access_token, ig.verify_token, tg.bot_token,
                                      tg.secret_token, pm.server_token, pm.inbound_password};
  struct made {
    std::string type, segment, body;
  };
  std::vector<made> to_make = {{"whatsapp", "whatsapp", wa.to_json()},
                               {"messenger", "messenger", ms.to_json()},
                               {"instagram", "instagram", ig.to_json()},
                               {"telegram", "telegram", tg.to_json()},
                               {"email", "postmark", pm.to_json()}};
  std::vector<std::string> ids;
  for (const auto& m : to_make) {
    auto r = admin("POST", "/v1/admin/tenants/acme/channels", m.body);
    ASSERT_EQ(r.status, 201) << r.body;
    std::string id = str(r.json, "id");
    ASSERT_EQ(id.rfind("ch_", 0), 0u) << r.body;
    ids.push_back(id);
    EXPECT_EQ(str(r.json, "type"), m.type);
    EXPECT_EQ(str(r.json, "webhook_path"), "/webhooks/" + m.segment + "/" + id);
    expect_no_secret(r.body, secrets, "POST channel");

    auto one = admin("GET", "/v1/admin/tenants/acme/channels/" + id);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(str(one.json, "id"), id);
    expect_no_secret(one.body, secrets, "GET channel");
    if (m.type == "telegram") {
      EXPECT_EQ(str(one.json, "bot_token"), "set") << one.body;
      EXPECT_EQ(str(one.json, "secret_token"), "set") << one.body;
    } else if (m.type == "email") {
      EXPECT_EQ(str(one.json, "server_token"), "set") << one.body;
      EXPECT_EQ(str(one.json, "inbound_password"), "set") << one.body;
      EXPECT_EQ(str(one.json, "from_address"), pm.from_address);
    } else {
      EXPECT_EQ(str(one.json, "app_secret"), "set") << one.body;
      EXPECT_EQ(str(one.json, "access_token"), "set") << one.body;
      EXPECT_EQ(str(one.json, "verify_token"), "set") << one.body;
    }
  }
  auto list = admin("GET", "/v1/admin/tenants/acme/channels");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(arr(list.json, "channels").size(), 5u) << list.body;
  expect_no_secret(list.body, secrets, "GET channels");
  expect_no_secret(admin("GET", "/v1/admin/tenants").body, secrets, "GET tenants");
  // Another tenant does not see them.
  create_tenant("beta");
  auto beta_channels = admin("GET", "/v1/admin/tenants/beta/channels");
  EXPECT_TRUE(arr(beta_channels.json, "channels").empty()) << beta_channels.body;
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/beta/channels/" + ids[0]).status, 404);
  // Nor the log.
  expect_no_secret(log(), secrets, "the log");
}

TEST_F(AdminApi, DeletedChannelAnswers404OnItsWebhooks) {
  std::string key = create_tenant("acme");
  create_tenant("beta");
  meta_channel wa;
  telegram_channel tg;
  std::string wa_id = create_channel("acme", wa.to_json());
  std::string tg_id = create_channel("acme", tg.to_json());
  std::string handshake = "/webhooks/whatsapp/" + wa_id + "?hub.mode=subscribe&hub.challenge=77&hub.verify_token=" + wa.verify_token;
  ASSERT_EQ(post(wa_webhook(wa, wa_id, "wamid.admin-del-0001")).status, 200);
  ASSERT_EQ(public_request("GET", handshake).status, 200);

  // Deleting through another tenant's path does nothing.
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/beta/channels/" + wa_id).status, 404);
  EXPECT_EQ(post(wa_webhook(wa, wa_id, "wamid.admin-del-0002")).status, 200);

  auto del = admin("DELETE", "/v1/admin/tenants/acme/channels/" + wa_id);
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_TRUE(del.body.empty()) << del.body;
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/channels/" + wa_id).status, 404);
  auto list = admin("GET", "/v1/admin/tenants/acme/channels");
  ASSERT_EQ(arr(list.json, "channels").size(), 1u) << list.body;
  EXPECT_EQ(str(arr(list.json, "channels")[0], "id"), tg_id);

  auto after = post(wa_webhook(wa, wa_id, "wamid.admin-del-0003"));
  EXPECT_EQ(after.status, 404) << after.body;
  EXPECT_EQ(public_request("GET", handshake).status, 404);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/channels/" + wa_id).status, 404);
  // The other channel still works, and the messages stored before stay readable.
  EXPECT_EQ(post(signed_telegram(tg, tg_id, telegram_text(1, 99, "Zoe", "hi", unix_now_s()))).status, 200);
  auto convs = all_conversations(key);
  EXPECT_EQ(convs.size(), 2u);
}

// ---- API keys --------------------------------------------------------------------------------

TEST_F(AdminApi, ApiKeysCarryTheirScopesAndStopWorkingWhenDeleted) {
  std::string main_key = create_tenant("acme");
  create_tenant("beta");
  auto created = admin("POST", "/v1/admin/tenants/acme/api-keys", R"({"scopes":["read"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string kid = str(created.json, "id");
  std::string key = str(created.json, "api_key");
  EXPECT_EQ(kid.rfind("key_", 0), 0u) << created.body;
  EXPECT_EQ(key.rfind("pk_", 0), 0u) << created.body;
  ASSERT_EQ(arr(created.json, "scopes").size(), 1u) << created.body;
  EXPECT_EQ(arr(created.json, "scopes")[0].as_string(), "read");
  EXPECT_EQ(tenant_get(key, "/v1/conversations").status, 200);

  auto [send_kid, send_key] = create_api_key("acme", {"send"});
  EXPECT_EQ(tenant_get(send_key, "/v1/conversations").status, 403);
  auto both = admin("POST", "/v1/admin/tenants/acme/api-keys", R"({"scopes":["send","read"]})");
  ASSERT_EQ(both.status, 201);
  EXPECT_EQ(arr(both.json, "scopes").size(), 2u) << both.body;

  // Another tenant's path cannot delete it.
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/beta/api-keys/" + kid).status, 404);
  EXPECT_EQ(tenant_get(key, "/v1/conversations").status, 200);

  auto del = admin("DELETE", "/v1/admin/tenants/acme/api-keys/" + kid);
  EXPECT_EQ(del.status, 204) << del.body;
  auto refused = tenant_get(key, "/v1/conversations");
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(tenant_get(key, "/v1/events").status, 401);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/api-keys/" + kid).status, 404);
  EXPECT_EQ(admin("DELETE", "/v1/admin/tenants/acme/api-keys/key_doesnotexist").status, 404);
  // The other keys are untouched.
  EXPECT_EQ(tenant_get(main_key, "/v1/conversations").status, 200);
  EXPECT_EQ(tenant_get(str(both.json, "api_key"), "/v1/conversations").status, 200);
  (void)send_kid;
}

// ---- tenant deletion -------------------------------------------------------------------------

TEST_F(AdminApi, DeletedTenantIsPurgingWithKeysRevokedAndChannelsGone) {
  std::string key = create_tenant("acme");
  std::string other = create_tenant("beta");
  auto [kid, read_key] = create_api_key("acme", {"read"});
  meta_channel wa;
  postmark_channel pm;
  std::string wa_id = create_channel("acme", wa.to_json());
  std::string pm_id = create_channel("acme", pm.to_json());
  ASSERT_EQ(post(wa_webhook(wa, wa_id, "wamid.purge-0001")).status, 200);
  auto convs = all_conversations(key);
  ASSERT_EQ(convs.size(), 1u);
  std::string conv_id = str(convs[0], "id");

  auto del = admin("DELETE", "/v1/admin/tenants/acme");
  EXPECT_EQ(del.status, 202) << del.body;
  EXPECT_EQ(str(del.json, "status"), "purging") << del.body;
  auto one = admin("GET", "/v1/admin/tenants/acme");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(str(one.json, "status"), "purging") << one.body;
  expect_purging_or_gone("acme");

  for (const auto& k : {key, read_key}) {
    EXPECT_EQ(tenant_get(k, "/v1/conversations").status, 401);
    EXPECT_EQ(tenant_get(k, "/v1/conversations/" + conv_id).status, 401);
    EXPECT_EQ(tenant_get(k, "/v1/events").status, 401);
  }
  EXPECT_EQ(post(wa_webhook(wa, wa_id, "wamid.purge-0002")).status, 404);
  EXPECT_EQ(public_request("GET", "/webhooks/whatsapp/" + wa_id + "?hub.mode=subscribe&hub.challenge=5&hub.verify_token=" +
                                      wa.verify_token)
                .status,
            404);
  postmark_email e;
  e.message_id = "purge-email-1";
  e.date_s = unix_now_s();
  EXPECT_EQ(post(signed_postmark(pm, pm_id, postmark_inbound(e))).status, 404);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/acme/channels/" + wa_id).status, 404);

  // Nothing new can be attached to it, and its id is not free while it purges.
  EXPECT_EQ(admin("POST", "/v1/admin/tenants/acme/channels", telegram_channel{}.to_json()).status, 404);
  EXPECT_EQ(admin("POST", "/v1/admin/tenants/acme/api-keys", R"({"scopes":["read"]})").status, 404);
  auto reuse = admin("POST", "/v1/admin/tenants", R"({"id":"acme"})");
  EXPECT_TRUE(reuse.status == 409 || reuse.status == 201) << reuse.body;
  if (reuse.status == 201) {
    // Only allowed once the purge is over: then the old data must be unreachable.
    EXPECT_EQ(tenant_get(str(reuse.json, "api_key"), "/v1/conversations/" + conv_id).status, 404);
  }
  // A second DELETE is harmless; the other tenant is untouched.
  auto again = admin("DELETE", "/v1/admin/tenants/acme");
  EXPECT_TRUE(again.status == 202 || again.status == 404) << again.body;
  EXPECT_EQ(tenant_get(other, "/v1/conversations").status, 200);
  EXPECT_EQ(str(admin("GET", "/v1/admin/tenants/beta").json, "status"), "active");
  (void)kid;
}

// ---- persistence -----------------------------------------------------------------------------

TEST_F(AdminApi, TenantsChannelsAndKeysSurviveARestart) {
  auto created = admin("POST", "/v1/admin/tenants", R"({"id":"acme","name":"Acme Inc","limits":{"send_requests_per_second":7}})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key = str(created.json, "api_key");
  std::string gone_key = create_tenant("gone");
  meta_channel wa;
  telegram_channel tg;
  postmark_channel pm;
  std::string wa_id = create_channel("acme", wa.to_json());
  std::string tg_id = create_channel("acme", tg.to_json());
  std::string pm_id = create_channel("acme", pm.to_json());
  std::string gone_channel = create_channel("gone", meta_channel{}.to_json());
  auto [read_kid, read_key] = create_api_key("acme", {"read"});
  auto [dead_kid, dead_key] = create_api_key("acme", {"read"});
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/acme/api-keys/" + dead_kid).status, 204);
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/acme/channels/" + pm_id).status, 204);
  ASSERT_EQ(admin("DELETE", "/v1/admin/tenants/gone").status, 202);

  restart();
  if (HasFatalFailure()) return;

  auto one = admin("GET", "/v1/admin/tenants/acme");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(str(one.json, "name"), "Acme Inc");
  EXPECT_EQ(str(one.json, "status"), "active");
  EXPECT_EQ(num(member(one.json, "limits"), "send_requests_per_second"), 7);
  auto channels = admin("GET", "/v1/admin/tenants/acme/channels");
  ASSERT_EQ(channels.status, 200);
  std::vector<std::string> ids;
  for (const auto& c : arr(channels.json, "channels")) ids.push_back(str(c, "id"));
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want = {wa_id, tg_id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want) << channels.body;  // the listing order is not part of the contract
  auto wa_after = admin("GET", "/v1/admin/tenants/acme/channels/" + wa_id);
  EXPECT_EQ(str(wa_after.json, "app_secret"), "set") << wa_after.body;
  EXPECT_EQ(arr(wa_after.json, "phone_number_ids").size(), 1u) << wa_after.body;

  // Keys: the kept ones work, the deleted one stays dead.
  EXPECT_EQ(tenant_get(key, "/v1/conversations").status, 200);
  EXPECT_EQ(tenant_get(read_key, "/v1/conversations").status, 200);
  EXPECT_EQ(tenant_get(dead_key, "/v1/conversations").status, 401);
  // Channels still verify with the same (encrypted at rest) secrets.
  EXPECT_EQ(post(wa_webhook(wa, wa_id, "wamid.persist-0001")).status, 200);
  EXPECT_EQ(post(signed_telegram(tg, tg_id, telegram_text(55, 1234, "Kim", "after restart", unix_now_s()))).status, 200);
  EXPECT_EQ(public_request("GET", "/webhooks/whatsapp/" + wa_id + "?hub.mode=subscribe&hub.challenge=9&hub.verify_token=" +
                                      wa.verify_token)
                .body,
            "9");
  EXPECT_EQ(all_conversations(key).size(), 2u);
  postmark_email e;
  e.message_id = "persist-email-1";
  e.date_s = unix_now_s();
  EXPECT_EQ(post(signed_postmark(pm, pm_id, postmark_inbound(e))).status, 404);

  // The deleted tenant stays deleted.
  expect_purging_or_gone("gone");
  EXPECT_EQ(tenant_get(gone_key, "/v1/conversations").status, 401);
  EXPECT_EQ(post(wa_webhook(meta_channel{}, gone_channel, "wamid.persist-gone")).status, 404);
  EXPECT_EQ(admin("POST", "/v1/admin/tenants", R"({"id":"acme"})").status, 409);
  (void)read_kid;
}

}  // namespace
}  // namespace parley::testing
