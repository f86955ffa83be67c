// Outbound end to end: the real parleyd sending through the provider simulator
// (`parley-bench simulate`, a real HTTP server on loopback) and receiving the status
// webhooks the simulator posts back, plus event push to a real receiver.
#include <gtest/gtest.h>

#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "support/http_receiver.hpp"
#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

constexpr int settle_ms = 60'000;  // generous: a loaded 2-core machine

// Polls `probe` until it holds or the deadline passes (each probe is a real request to
// the engine or the simulator; there is no event to wait on across processes).
template <class Probe>
bool eventually(Probe probe, int timeout_ms = settle_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling cadence, not synchronization
  }
}

std::string with_api_base(const std::string& channel_json, const std::string& base, const std::string& extra = {}) {
  return "{\"api_base\":\"" + base + "\"," + extra + channel_json.substr(1);
}

class outbound_test : public parley_fixture {
 protected:
  void SetUp() override {
    sim_ = std::make_unique<child_process>(PARLEY_BENCH_PATH,
                                           std::vector<std::string>{"simulate", "--listen", "127.0.0.1:0", "--quiet"},
                                           std::vector<std::string>{}, sim_log_.sub("simulator.log"));
    auto line = sim_->read_line(fixture_start_timeout_ms);
    ASSERT_TRUE(line) << "the simulator did not start";
    auto at = line->rfind(' ');
    sim_addr_ = line->substr(at + 1);
    parley_fixture::SetUp();
  }

  void TearDown() override {
    parley_fixture::TearDown();
    if (sim_) {
      sim_->signal(SIGTERM);
      (void)sim_->wait_exit(10'000);
    }
  }

  json_reply sim(const std::string& method, const std::string& path, const std::string& body = {}) const {
    return to_json_reply(http_request(sim_addr_, method, path, body, {"Content-Type: application/json"}));
  }

  void sim_config(const std::string& body) { ASSERT_EQ(sim("POST", "/_sim/config", body).status, 200) << body; }

  /// Every send the simulator recorded.
  json::array sends() const {
    auto r = sim("GET", "/_sim/sends");
    return r.json.is_array() ? r.json.as_array() : json::array{};
  }

  std::size_t sends_to(const std::string& recipient) const {
    auto all = sends();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const json::value& s) {
      return str(s, "recipient") == recipient && num(s, "status") == 200;
    }));
  }

  void route_statuses(const std::string& provider, const std::string& account, const std::string& channel_path,
                      const std::string& secret) {
    json::object o{{"provider", provider}, {"account", account}, {"url", "http://" + public_addr() + channel_path},
                   {"secret", secret}};
    auto r = sim("POST", "/_sim/routes", json::serialize(o));
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  std::string api_base() const { return "http://" + sim_addr_ + "/v21.0"; }

  json_reply send(const std::string& api_key, const std::string& body) const {
    return public_request("POST", "/v1/messages", body, {"Authorization: Bearer " + api_key});
  }

  std::string message_status(const std::string& api_key, const std::string& id) const {
    auto r = tenant_get(api_key, "/v1/messages/" + id);
    return r.status == 200 ? str(r.json, "status") : std::string("http " + std::to_string(r.status));
  }

  bool reaches(const std::string& api_key, const std::string& id, const std::string& status) const {
    return eventually([&] { return message_status(api_key, id) == status; });
  }

  // A WhatsApp tenant whose customer 15550100001 wrote a moment ago (window open).
  struct wa_setup {
    std::string key, channel;
    meta_channel ch;
  };
  wa_setup whatsapp_with_open_window(const std::string& tenant, const std::string& extra = {}) {
    wa_setup s;
    s.key = create_tenant(tenant);
    s.channel = create_channel(tenant, with_api_base(s.ch.to_json(), api_base(), extra));
    route_statuses("whatsapp", s.ch.account_id, "/webhooks/whatsapp/" + s.channel, s.ch.app_secret);
    auto hook = signed_meta(s.ch, s.channel,
                            whatsapp_text(s.ch.account_id, wa_message{"wamid.in-" + tenant, "15550100001", "hello", unix_now_s()}));
    EXPECT_EQ(public_request("POST", hook.path, hook.body, hook.headers).status, 200);
    return s;
  }

  std::string text_to(const std::string& channel, const std::string& to, const std::string& text,
                      const std::string& extra = {}) const {
    json::object o{{"channel_id", channel}, {"to", to}, {"type", "text"}, {"text", json::object{{"body", text}}}};
    std::string body = json::serialize(o);
    return extra.empty() ? body : body.substr(0, body.size() - 1) + "," + extra + "}";
  }

  temp_dir sim_log_;
  std::unique_ptr<child_process> sim_;
  std::string sim_addr_;
};

TEST_F(outbound_test, WhatsAppTextInsideTheWindowIsSentAndTracked) {
  auto s = whatsapp_with_open_window("wa");
  auto r = send(s.key, text_to(s.channel, "15550100001", "Your order ships today"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(str(r.json, "status"), "queued");
  std::string id = str(r.json, "id");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(reaches(s.key, id, "read")) << message_status(s.key, id);
  auto m = tenant_get(s.key, "/v1/messages/" + id);
  EXPECT_EQ(str(m.json, "direction"), "outbound");
  EXPECT_EQ(str(m.json, "text"), "Your order ships today");
  EXPECT_TRUE(str(m.json, "provider_message_id").starts_with("wamid."));
  std::vector<std::string> history;
  for (const auto& h : arr(m.json, "status_history")) history.push_back(str(h, "status"));
  EXPECT_EQ(history, (std::vector<std::string>{"queued", "sent", "delivered", "read"}));
  // What reached the provider: the Graph request with the channel's token.
  auto all = sends();
  ASSERT_EQ(all.size(), 1u);
  auto body = parse_json(str(all[0], "body"));
  EXPECT_EQ(str(body, "to"), "15550100001");
  EXPECT_EQ(str(member(body, "text"), "body"), "Your order ships today");
  // Every status change is in the feed, in order.
  std::vector<std::string> statuses;
  for (const auto& e : all_events(s.key)) {
    if (str(e, "type") == "message.status" && str(member(member(e, "data"), "message"), "id") == id) {
      statuses.push_back(str(member(e, "data"), "status"));
    }
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"queued", "sent", "delivered", "read"}));
}

TEST_F(outbound_test, FreeFormOutsideTheWindowIsRefusedAndTemplatesAreAllowed) {
  std::string key = create_tenant("window");
  meta_channel ch;
  std::string channel = create_channel("window", with_api_base(ch.to_json(), api_base()));
  route_statuses("whatsapp", ch.account_id, "/webhooks/whatsapp/" + channel, ch.app_secret);
  // Nobody wrote: the window is closed.
  auto refused = send(key, text_to(channel, "15550100009", "hello?"));
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(error_code(refused), "window_closed");
  // A customer whose message is 25 hours old: closed too.
  auto old = signed_meta(ch, channel, whatsapp_text(ch.account_id, wa_message{"wamid.old", "15550100002", "hi", unix_now_s() - 25 * 3600}));
  ASSERT_EQ(public_request("POST", old.path, old.body, old.headers).status, 200);
  EXPECT_EQ(error_code(send(key, text_to(channel, "15550100002", "late reply"))), "window_closed");
  EXPECT_TRUE(sends().empty()) << "nothing may reach the provider";
  // A template may open the conversation.
  json::object tpl{{"channel_id", channel},
                   {"to", "15550100009"},
                   {"type", "template"},
                   {"template", json::object{{"name", "order_update"}, {"language", "en_US"},
                                             {"components", json::array{json::object{{"type", "body"}}}}}}};
  auto ok = send(key, json::serialize(tpl));
  ASSERT_EQ(ok.status, 202) << ok.body;
  ASSERT_TRUE(reaches(key, str(ok.json, "id"), "read"));
  auto body = parse_json(str(sends().at(0), "body"));
  EXPECT_EQ(str(body, "type"), "template");
  EXPECT_EQ(str(member(body, "template"), "name"), "order_update");
  EXPECT_EQ(str(member(member(body, "template"), "language"), "code"), "en_US");
}

TEST_F(outbound_test, OptedOutContactsAreRefused) {
  auto s = whatsapp_with_open_window("optout");
  auto stop = signed_meta(s.ch, s.channel, whatsapp_text(s.ch.account_id, wa_message{"wamid.stop", "15550100001", " stop ", unix_now_s()}));
  ASSERT_EQ(public_request("POST", stop.path, stop.body, stop.headers).status, 200);
  auto r = send(s.key, text_to(s.channel, "15550100001", "special offer"));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(error_code(r), "opted_out");
  json::object tpl{{"channel_id", s.channel}, {"to", "15550100001"}, {"type", "template"},
                   {"template", json::object{{"name", "promo"}, {"language", "en_US"}}}};
  EXPECT_EQ(error_code(send(s.key, json::serialize(tpl))), "opted_out") << "consent covers templates too";
  EXPECT_TRUE(sends().empty());
}

TEST_F(outbound_test, RequestErrorsNameTheirCause) {
  auto s = whatsapp_with_open_window("errors");
  EXPECT_EQ(error_code(send(s.key, "{not json")), "invalid_json");
  EXPECT_EQ(error_code(send(s.key, R"({"channel_id":"ch_nope","to":"1","type":"text","text":{"body":"x"}})")),
            "channel_not_found");
  auto other = create_tenant("someone-else");
  EXPECT_EQ(send(other, text_to(s.channel, "15550100001", "x")).status, 404) << "another tenant's channel";
  EXPECT_EQ(error_code(send(s.key, text_to(s.channel, "15550100001", ""))), "invalid_request");
  json::object email{{"channel_id", s.channel}, {"to", "a@b.example"}, {"type", "email"},
                     {"email", json::object{{"subject", "s"}, {"text", "t"}}}};
  auto unsupported = send(s.key, json::serialize(email));
  EXPECT_EQ(unsupported.status, 422);
  EXPECT_EQ(error_code(unsupported), "unsupported_type");
  auto [kid, read_only] = create_api_key("errors", {"read"});
  EXPECT_EQ(send(read_only, text_to(s.channel, "15550100001", "x")).status, 403);
  EXPECT_EQ(send("pk_wrong", text_to(s.channel, "15550100001", "x")).status, 401);
  EXPECT_TRUE(sends().empty());
}

TEST_F(outbound_test, IdempotencyKeysNeverSendTwiceAlsoAfterARestart) {
  auto s = whatsapp_with_open_window("idem");
  std::string body = text_to(s.channel, "15550100001", "exactly once", R"("idempotency_key":"order-48213-shipped")");
  auto first = send(s.key, body);
  ASSERT_EQ(first.status, 202) << first.body;
  auto again = send(s.key, body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(str(again.json, "id"), str(first.json, "id"));
  auto conflict = send(s.key, text_to(s.channel, "15550100001", "different", R"("idempotency_key":"order-48213-shipped")"));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(error_code(conflict), "idempotency_conflict");
  ASSERT_TRUE(reaches(s.key, str(first.json, "id"), "read"));
  restart();
  auto after = send(s.key, body);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(str(after.json, "id"), str(first.json, "id"));
  EXPECT_EQ(str(after.json, "status"), "read");
  EXPECT_EQ(sends_to("15550100001"), 1u);
}

TEST_F(outbound_test, ConcurrentRepeatsOfOneKeyGetTheSameMessage) {
  auto s = whatsapp_with_open_window("idem-race");
  std::string body = text_to(s.channel, "15550100001", "once", R"("idempotency_key":"race-1")");
  std::vector<std::thread> clients;
  std::vector<json_reply> replies(8);
  for (std::size_t i = 0; i < replies.size(); ++i) clients.emplace_back([&, i] { replies[i] = send(s.key, body); });
  for (auto& t : clients) t.join();
  std::set<std::string> ids;
  int accepted = 0;
  for (const auto& r : replies) {
    ASSERT_TRUE(r.status == 202 || r.status == 200) << r.body;
    accepted += r.status == 202;
    ids.insert(str(r.json, "id"));
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(ids.size(), 1u);
  ASSERT_TRUE(reaches(s.key, *ids.begin(), "read"));
  EXPECT_EQ(sends_to("15550100001"), 1u);
}

TEST_F(outbound_test, PermanentProviderErrorsFailTheMessageWithTheirCode) {
  auto s = whatsapp_with_open_window("permanent");
  sim_config(R"({"rules":[{"recipient":"15550100001","http_status":400,"code":131026,"message":"Message undeliverable"}]})");
  auto r = send(s.key, text_to(s.channel, "15550100001", "hello"));
  ASSERT_EQ(r.status, 202);
  std::string id = str(r.json, "id");
  ASSERT_TRUE(reaches(s.key, id, "failed"));
  auto m = tenant_get(s.key, "/v1/messages/" + id);
  EXPECT_EQ(str(member(m.json, "error"), "code"), "131026");
  EXPECT_EQ(sends_to("15550100001"), 0u);
  // 131047 (re-engagement required) is the window closing at the provider.
  sim_config(R"({"rules":[{"recipient":"15550100001","http_status":400,"code":131047,"message":"Re-engagement message"}]})");
  auto r2 = send(s.key, text_to(s.channel, "15550100001", "again"));
  ASSERT_EQ(r2.status, 202);
  ASSERT_TRUE(reaches(s.key, str(r2.json, "id"), "failed"));
  auto m2 = tenant_get(s.key, "/v1/messages/" + str(r2.json, "id"));
  EXPECT_EQ(str(member(m2.json, "error"), "code"), "window_closed");
}

TEST_F(outbound_test, ThrottlingSlowsDownAndEverythingCompletes) {
  auto s = whatsapp_with_open_window("throttle");
  sim_config(R"({"throttle_rate":1.0})");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = send(s.key, text_to(s.channel, "15550100001", "msg " + std::to_string(i)));
    ASSERT_EQ(r.status, 202);
    ids.push_back(str(r.json, "id"));
  }
  // The provider throttles every attempt: the messages wait (queued), none fails.
  ASSERT_TRUE(eventually([&] { return num(sim("GET", "/_sim/stats").json, "throttled") >= 2; }));
  for (const auto& id : ids) EXPECT_EQ(message_status(s.key, id), "queued");
  sim_config(R"({"throttle_rate":0.0})");
  for (const auto& id : ids) ASSERT_TRUE(reaches(s.key, id, "read")) << id << " is " << tenant_get(s.key, "/v1/messages/" + id).body;
  // One customer's messages arrive in the order they were accepted.
  std::vector<std::string> texts;
  for (const auto& x : sends()) {
    auto body = parse_json(str(x, "body"));
    if (num(x, "status") == 200) texts.push_back(str(member(body, "text"), "body"));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"msg 0", "msg 1", "msg 2", "msg 3", "msg 4"}));
}

TEST_F(outbound_test, PacingHoldsTheChannelRate) {
  auto s = whatsapp_with_open_window("pacing", R"("outbound_per_second":20,)");
  // A flood of bulk messages to many customers (a template campaign).
  constexpr int n = 80;
  for (int i = 0; i < n; ++i) {
    json::object tpl{{"channel_id", s.channel}, {"to", "1555020" + std::to_string(1000 + i)}, {"type", "template"},
                     {"priority", "bulk"}, {"template", json::object{{"name", "promo"}, {"language", "en_US"}}}};
    ASSERT_EQ(send(s.key, json::serialize(tpl)).status, 202);
  }
  ASSERT_TRUE(eventually([&] { return sends().size() >= static_cast<std::size_t>(n); }));
  std::vector<std::int64_t> at;
  for (const auto& x : sends()) at.push_back(num(x, "received_at_us"));
  std::sort(at.begin(), at.end());
  // After the bucket's small initial burst the sends follow the rate: never faster than
  // 20/s (a token per 50 ms), and not much slower.
  std::size_t from = 10;
  double seconds = static_cast<double>(at.back() - at[from]) / 1e6;
  double rate = static_cast<double>(at.size() - 1 - from) / seconds;
  EXPECT_LE(rate, 20 * 1.03) << "sends went faster than the channel's outbound_per_second";
  EXPECT_GE(rate, 20 * 0.90);
}

TEST_F(outbound_test, ConversationalRepliesGoAheadOfABulkCampaign) {
  auto s = whatsapp_with_open_window("priority", R"("outbound_per_second":10,)");
  for (int i = 0; i < 30; ++i) {
    json::object tpl{{"channel_id", s.channel}, {"to", "1555030" + std::to_string(1000 + i)}, {"type", "template"},
                     {"priority", "bulk"}, {"template", json::object{{"name", "promo"}, {"language", "en_US"}}}};
    ASSERT_EQ(send(s.key, json::serialize(tpl)).status, 202);
  }
  auto reply = send(s.key, text_to(s.channel, "15550100001", "a reply"));
  ASSERT_EQ(reply.status, 202);
  ASSERT_TRUE(reaches(s.key, str(reply.json, "id"), "read"));
  // The reply went out before most of the campaign (at 10/s the campaign takes 3 s).
  std::size_t position = 0;
  auto all = sends();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (str(all[i], "recipient") == "15550100001") position = i;
  }
  EXPECT_LT(position, 10u) << "the reply waited behind the bulk queue";
}

TEST_F(outbound_test, ScheduledAndExpiringMessages) {
  auto s = whatsapp_with_open_window("schedule");
  auto later = send(s.key, text_to(s.channel, "15550100001", "later",
                                   "\"send_at\":\"" + rfc3339(unix_now_s() + 2) + "\""));
  ASSERT_EQ(later.status, 202) << later.body;
  EXPECT_EQ(message_status(s.key, str(later.json, "id")), "queued");
  ASSERT_TRUE(reaches(s.key, str(later.json, "id"), "read"));
  // The provider is down; a message valid for 1 s expires instead of going out late.
  sim_config(R"({"down":true})");
  auto expiring = send(s.key, text_to(s.channel, "15550100001", "now or never", R"("valid_for_seconds":1)"));
  ASSERT_EQ(expiring.status, 202);
  ASSERT_TRUE(reaches(s.key, str(expiring.json, "id"), "failed"));
  auto m = tenant_get(s.key, "/v1/messages/" + str(expiring.json, "id"));
  EXPECT_EQ(str(member(m.json, "error"), "code"), "expired");
  sim_config(R"({"down":false})");
}

TEST_F(outbound_test, EveryChannelSendsThroughItsProvider) {
  std::string key = create_tenant("channels");
  meta_channel messenger;
  messenger.type = "messenger";
  messenger.account_id = "1234567890";
  std::string m_id = create_channel("channels", with_api_base(messenger.to_json(), api_base()));
  route_statuses("messenger", messenger.account_id, "/webhooks/messenger/" + m_id, messenger.app_secret);
  meta_channel instagram;
  instagram.type = "instagram";
  instagram.account_id = "17841400000000";
  std::string ig_id = create_channel("channels", with_api_base(instagram.to_json(), api_base()));
  route_statuses("instagram", instagram.account_id, "/webhooks/instagram/" + ig_id, instagram.app_secret);
  telegram_channel telegram;
  std::string tg_id = create_channel("channels", with_api_base(telegram.to_json(), "http://" + sim_addr_));
  postmark_channel postmark;
  std::string pm_id = create_channel("channels", with_api_base(postmark.to_json(), "http://" + sim_addr_));
  route_statuses("postmark", postmark.server_token, "/webhooks/postmark/" + pm_id + "/events",
                 postmark.inbound_username + ":" + postmark.inbound_password);

  // Customers write first on the windowed channels.
  auto now_ms = unix_now_ms();
  auto in1 = signed_meta(messenger, m_id, meta_messaging_text("page", messenger.account_id, "6783456789012345", "m_in1", "hi", now_ms));
  auto in2 = signed_meta(instagram, ig_id, meta_messaging_text("instagram", instagram.account_id, "5551234", "ig_in1", "hi", now_ms));
  ASSERT_EQ(public_request("POST", in1.path, in1.body, in1.headers).status, 200);
  ASSERT_EQ(public_request("POST", in2.path, in2.body, in2.headers).status, 200);

  auto m = send(key, text_to(m_id, "6783456789012345", "hello from the page"));
  auto ig = send(key, text_to(ig_id, "5551234", "hello on instagram"));
  auto tg = send(key, text_to(tg_id, "1111111", "hello on telegram"));
  json::object email{{"channel_id", pm_id}, {"to", "Jane.Doe@Example.com"}, {"type", "email"},
                     {"email", json::object{{"subject", "Your order"}, {"text", "It ships today."}}}};
  auto em = send(key, json::serialize(email));
  for (const auto* r : {&m, &ig, &tg, &em}) ASSERT_EQ(r->status, 202) << r->body;

  // Messenger/Instagram: delivery then read watermarks; email: a delivery record;
  // Telegram has no delivery statuses (sent is final).
  EXPECT_TRUE(reaches(key, str(m.json, "id"), "read")) << tenant_get(key, "/v1/messages/" + str(m.json, "id")).body;
  EXPECT_TRUE(reaches(key, str(ig.json, "id"), "read")) << tenant_get(key, "/v1/messages/" + str(ig.json, "id")).body;
  EXPECT_TRUE(reaches(key, str(em.json, "id"), "delivered"));
  EXPECT_TRUE(reaches(key, str(tg.json, "id"), "sent"));

  std::map<std::string, json::value> by_provider;
  for (const auto& x : sends()) by_provider[str(x, "provider")] = parse_json(str(x, "body"));
  EXPECT_EQ(str(member(by_provider["messenger"], "recipient"), "id"), "6783456789012345");
  EXPECT_EQ(str(member(by_provider["messenger"], "message"), "text"), "hello from the page");
  EXPECT_EQ(str(member(by_provider["instagram"], "recipient"), "id"), "5551234");
  EXPECT_EQ(str(by_provider["telegram"], "text"), "hello on telegram");
  EXPECT_EQ(str(by_provider["postmark"], "To"), "jane.doe@example.com");
  EXPECT_EQ(str(by_provider["postmark"], "From"), postmark.from_address);
  EXPECT_EQ(str(by_provider["postmark"], "Subject"), "Your order");
}

TEST_F(outbound_test, AcceptedMessagesSurviveACrashMidFlight) {
  auto s = whatsapp_with_open_window("crash");
  // The provider answers slowly: messages are queued and in flight when the engine dies.
  sim_config(R"({"latency_ms":3000})");
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    json::object tpl{{"channel_id", s.channel}, {"to", "1555040" + std::to_string(1000 + i)}, {"type", "template"},
                     {"template", json::object{{"name", "receipt"}, {"language", "en_US"}}}};
    auto r = send(s.key, json::serialize(tpl));
    ASSERT_EQ(r.status, 202);
    ids.push_back(str(r.json, "id"));
  }
  ASSERT_TRUE(eventually([&] { return num(sim("GET", "/_sim/stats").json, "requests") >= 1; }));
  kill9();
  start();
  // The restarted engine listens on a new port: statuses go there from now on. Its
  // resent messages are still held by the slow provider until after this point.
  route_statuses("whatsapp", s.ch.account_id, "/webhooks/whatsapp/" + s.channel, s.ch.app_secret);
  sim_config(R"({"latency_ms":0})");
  for (const auto& id : ids) ASSERT_TRUE(reaches(s.key, id, "read")) << id << " is " << tenant_get(s.key, "/v1/messages/" + id).body;
  // At least once towards the provider: every recipient got theirs.
  for (int i = 0; i < 20; ++i) EXPECT_GE(sends_to("1555040" + std::to_string(1000 + i)), 1u);
}

TEST_F(outbound_test, BatchAnswersEachMessageInOrder) {
  auto s = whatsapp_with_open_window("batch");
  std::string items = "[" + text_to(s.channel, "15550100001", "one") + "," +
                      R"({"channel_id":"ch_missing","to":"1","type":"text","text":{"body":"x"}})" + "," +
                      text_to(s.channel, "15550100077", "window closed") + "," +
                      text_to(s.channel, "15550100001", "two") + "]";
  auto r = public_request("POST", "/v1/messages/batch", "{\"messages\":" + items + "}", {"Authorization: Bearer " + s.key});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& results = arr(r.json, "results");
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(str(results[0], "status"), "queued");
  EXPECT_EQ(str(member(results[1], "error"), "code"), "channel_not_found");
  EXPECT_EQ(str(member(results[2], "error"), "code"), "window_closed");
  EXPECT_EQ(str(results[3], "status"), "queued");
  ASSERT_TRUE(reaches(s.key, str(results[3], "id"), "read"));
  EXPECT_EQ(sends_to("15550100001"), 2u);
}

TEST_F(outbound_test, TenantSendRateLimitAnswers429WithRetryAfter) {
  std::string tenant_body = R"({"id":"limited","limits":{"send_requests_per_second":2}})";
  auto t = admin("POST", "/v1/admin/tenants", tenant_body);
  ASSERT_EQ(t.status, 201) << t.body;
  std::string key = str(t.json, "api_key");
  meta_channel ch;
  std::string channel = create_channel("limited", with_api_base(ch.to_json(), api_base()));
  json::object tpl{{"channel_id", channel}, {"to", "15550100001"}, {"type", "template"},
                   {"template", json::object{{"name", "t"}, {"language", "en_US"}}}};
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    auto r = send(key, json::serialize(tpl));
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(error_code(r), "rate_limited");
      auto pos = r.headers.find("retry-after:");
      if (pos != std::string::npos) retry_after = r.headers.substr(pos + 12, r.headers.find('\r', pos) - pos - 12);
    }
  }
  EXPECT_GE(limited, 3);
  EXPECT_FALSE(retry_after.empty());
}

TEST_F(outbound_test, MonthlyQuotaAnswers429QuotaExceeded) {
  auto t = admin("POST", "/v1/admin/tenants", R"({"id":"quota","limits":{"monthly_outbound_quota":2}})");
  ASSERT_EQ(t.status, 201) << t.body;
  std::string key = str(t.json, "api_key");
  meta_channel ch;
  std::string channel = create_channel("quota", with_api_base(ch.to_json(), api_base()));
  json::object tpl{{"channel_id", channel}, {"to", "15550100001"}, {"type", "template"},
                   {"template", json::object{{"name", "t"}, {"language", "en_US"}}}};
  EXPECT_EQ(send(key, json::serialize(tpl)).status, 202);
  EXPECT_EQ(send(key, json::serialize(tpl)).status, 202);
  auto over = send(key, json::serialize(tpl));
  EXPECT_EQ(over.status, 429);
  EXPECT_EQ(error_code(over), "quota_exceeded");
  restart();  // the count is stored
  EXPECT_EQ(error_code(send(key, json::serialize(tpl))), "quota_exceeded");
}

TEST_F(outbound_test, PatchedLimitsApplyAtOnce) {
  auto s = whatsapp_with_open_window("patched");
  json::object tpl{{"channel_id", s.channel}, {"to", "15550100001"}, {"type", "template"},
                   {"template", json::object{{"name", "t"}, {"language", "en_US"}}}};
  EXPECT_EQ(send(s.key, json::serialize(tpl)).status, 202);
  ASSERT_EQ(admin("PATCH", "/v1/admin/tenants/patched", R"({"limits":{"monthly_outbound_quota":1}})").status, 200);
  EXPECT_EQ(error_code(send(s.key, json::serialize(tpl))), "quota_exceeded");
  ASSERT_EQ(admin("PATCH", "/v1/admin/tenants/patched", R"({"limits":{"monthly_outbound_quota":0}})").status, 200);
  EXPECT_EQ(send(s.key, json::serialize(tpl)).status, 202) << "0 means unlimited again";
}

// ---- event push ----------------------------------------------------------------------------

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &size);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 15];
  }
  return out;
}

// The signature header is "t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>".
bool signature_valid(const received_request& r, const std::string& secret) {
  auto it = r.headers.find("x-parley-signature");
  if (it == r.headers.end()) return false;
  const std::string& h = it->second;
  auto comma = h.find(",v1=");
  if (!h.starts_with("t=") || comma == std::string::npos) return false;
  std::string t = h.substr(2, comma - 2);
  return h.substr(comma + 4) == hmac_hex(secret, t + "." + r.body);
}

TEST_F(outbound_test, EventsArePushedSignedInOrderAndRetriedWhileTheReceiverIsDown) {
  http_receiver receiver;
  receiver.answer_with(503);  // down at first
  const std::string secret = "whsec-e2e-0123456789";
  json::object tenant{{"id", "pushed"},
                      {"events_webhook", json::object{{"url", "http://" + receiver.address() + "/parley-events"},
                                                      {"secret", secret}}}};
  auto t = admin("POST", "/v1/admin/tenants", json::serialize(tenant));
  ASSERT_EQ(t.status, 201) << t.body;
  std::string key = str(t.json, "api_key");
  meta_channel ch;
  std::string channel = create_channel("pushed", ch.to_json());
  for (int i = 0; i < 5; ++i) {
    auto hook = signed_meta(ch, channel, whatsapp_text(ch.account_id, wa_message{"wamid.push-" + std::to_string(i),
                                                                                   "15550100001", "message " + std::to_string(i),
                                                                                   unix_now_s()}));
    ASSERT_EQ(public_request("POST", hook.path, hook.body, hook.headers).status, 200);
  }
  // Refused attempts are retried (same delivery id, growing attempt number).
  ASSERT_TRUE(receiver.wait_until([](const auto& rs) { return rs.size() >= 2; }, settle_ms));
  auto status = admin("GET", "/v1/admin/tenants/pushed/events-webhook");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_FALSE(member(status.json, "last_error").is_null());
  EXPECT_GT(num(status.json, "lag"), 0);
  receiver.answer_with(200);

  auto all_delivered = [](const std::vector<received_request>& rs) {
    std::size_t events = 0;
    for (const auto& r : rs) {
      auto body = parse_json(r.body);
      if (r.answered == 200) events += arr(body, "events").size();
    }
    return events >= 5;
  };
  ASSERT_TRUE(receiver.wait_until(all_delivered, settle_ms));
  auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests[0].headers["x-parley-delivery-id"], requests[1].headers["x-parley-delivery-id"]);
  EXPECT_EQ(requests[0].headers["x-parley-attempt"], "1");
  EXPECT_EQ(requests[1].headers["x-parley-attempt"], "2");
  std::vector<std::string> texts;
  std::uint64_t last_cursor = 0;
  for (const auto& r : requests) {
    EXPECT_TRUE(signature_valid(r, secret)) << r.headers.at("x-parley-signature");
    EXPECT_EQ(r.target, "/parley-events");
    if (r.answered != 200) continue;
    auto body = parse_json(r.body);
    for (const auto& e : arr(body, "events")) {
      std::uint64_t cursor = std::stoull(str(e, "cursor"));
      EXPECT_GT(cursor, last_cursor) << "events out of order or repeated";
      last_cursor = cursor;
      const auto& data = member(e, "data");
      texts.push_back(str(member(data, "message").is_null() ? data : member(data, "message"), "text"));
    }
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"message 0", "message 1", "message 2", "message 3", "message 4"}));
  ASSERT_TRUE(eventually([&] {
    auto s = admin("GET", "/v1/admin/tenants/pushed/events-webhook");
    return num(s.json, "lag") == 0 && member(s.json, "last_error").is_null();
  }));

  // Replay: move the cursor back and the feed comes again from there.
  std::size_t before = receiver.requests().size();
  auto replay = admin("PUT", "/v1/admin/tenants/pushed/events-webhook/cursor", R"({"cursor":"0"})");
  ASSERT_EQ(replay.status, 200) << replay.body;
  ASSERT_TRUE(receiver.wait_until([&](const auto& rs) { return rs.size() > before; }, settle_ms));
  auto again = parse_json(receiver.requests()[before].body);
  ASSERT_FALSE(arr(again, "events").empty());
  EXPECT_EQ(str(arr(again, "events").at(0), "id"), "ev_1");
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/nobody/events-webhook").status, 404);
}

TEST_F(outbound_test, AWebhookAddedByPatchGetsTheWholeRetainedFeed) {
  http_receiver receiver;
  std::string key = create_tenant("late-hook");
  meta_channel ch;
  std::string channel = create_channel("late-hook", ch.to_json());
  auto hook = signed_meta(ch, channel, whatsapp_text(ch.account_id, wa_message{"wamid.before", "15550100001", "before", unix_now_s()}));
  ASSERT_EQ(public_request("POST", hook.path, hook.body, hook.headers).status, 200);
  EXPECT_EQ(admin("GET", "/v1/admin/tenants/late-hook/events-webhook").status, 404);
  json::object patch{{"events_webhook", json::object{{"url", "http://" + receiver.address() + "/in"}, {"secret", "s-late"}}}};
  ASSERT_EQ(admin("PATCH", "/v1/admin/tenants/late-hook", json::serialize(patch)).status, 200);
  ASSERT_TRUE(receiver.wait_until([](const auto& rs) { return !rs.empty(); }, settle_ms));
  auto first = parse_json(receiver.requests().front().body);
  ASSERT_FALSE(arr(first, "events").empty());
  EXPECT_EQ(str(arr(first, "events").at(0), "type"), "message.received");
  // Removed again: the push stops and its status is gone.
  ASSERT_EQ(admin("PATCH", "/v1/admin/tenants/late-hook", R"({"events_webhook":null})").status, 200);
  EXPECT_TRUE(eventually([&] { return admin("GET", "/v1/admin/tenants/late-hook/events-webhook").status == 404; }));
}

}  // namespace
}  // namespace parley::testing
