// End-to-end crash test: four clients flood the real parleyd with signed WhatsApp
// webhooks, parleyd is killed with SIGKILL mid-flood, restarted on the same data dir, and
// every webhook that was answered 200 must be stored exactly once (nothing acknowledged
// is lost, nothing is stored twice), in messages and in the events feed alike.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

namespace json = boost::json;

constexpr int client_threads = 4;
constexpr int contacts = 200;
constexpr int target_acks = 1500;
constexpr auto flood_deadline = std::chrono::seconds(20);

class CrashFlood : public parley_fixture {};

struct client_record {
  std::vector<std::string> attempted;
  std::vector<std::string> acked;
  int refused_before_kill = 0;  ///< non-200 answers while parleyd was up (e.g. 503)
};

TEST_F(CrashFlood, EveryAcknowledgedWebhookSurvivesKill9ExactlyOnce) {
  std::string key = create_tenant("acme");
  meta_channel wa;
  std::string channel_id = create_channel("acme", wa.to_json());
  ASSERT_FALSE(channel_id.empty());
  const std::string addr = public_addr();  // the flood keeps this one; the restart moves ports

  std::mutex mutex;
  std::condition_variable progress;
  int acked_total = 0;
  std::atomic<bool> killed{false};
  std::atomic<bool> stop{false};
  std::vector<client_record> records(client_threads);
  std::vector<std::thread> clients;
  std::int64_t base_ts = unix_now_s() - 3600;

  for (int t = 0; t < client_threads; ++t) {
    clients.emplace_back([&, t] {
      auto& rec = records[static_cast<std::size_t>(t)];
      for (int i = 0; !stop.load(); ++i) {
        std::string wamid = "wamid.flood-" + std::to_string(t) + "-" + std::to_string(i);
        std::string from = std::to_string(15550300000LL + (t * 7919 + i * 13) % contacts);
        std::string body = whatsapp_text(wa.account_id, {wamid, from, "flood message " + wamid, base_ts + i, "Flood"});
        rec.attempted.push_back(wamid);
        auto r = http_request(addr, "POST", "/webhooks/whatsapp/" + channel_id, body,
                              {meta_signature_header(wa.app_secret, body), "Content-Type: application/json"});
        if (r && r->status == 200) {
          rec.acked.push_back(wamid);
          std::lock_guard lock(mutex);
          ++acked_total;
          progress.notify_all();
        } else if (!killed.load()) {
          ++rec.refused_before_kill;
        }
      }
    });
  }

  {
    std::unique_lock lock(mutex);
    progress.wait_for(lock, flood_deadline, [&] { return acked_total >= target_acks; });
  }
  // The clients are mid-request: the kill lands while webhooks are in flight.
  killed = true;
  kill9();
  stop = true;
  for (auto& c : clients) c.join();

  std::set<std::string> attempted, acked;
  int refused = 0;
  for (const auto& r : records) {
    attempted.insert(r.attempted.begin(), r.attempted.end());
    acked.insert(r.acked.begin(), r.acked.end());
    refused += r.refused_before_kill;
  }
  ASSERT_GE(acked.size(), 100u) << "the flood barely ran; log:\n" << log();
  RecordProperty("acked", static_cast<int>(acked.size()));
  RecordProperty("attempted", static_cast<int>(attempted.size()));
  RecordProperty("refused_before_kill", refused);

  start();
  if (HasFatalFailure()) return;

  // Every message of every conversation, by provider id.
  std::map<std::string, int> stored;
  auto convs = all_conversations(key);
  EXPECT_LE(convs.size(), static_cast<std::size_t>(contacts));
  for (const auto& c : convs) {
    auto messages = all_messages(key, str(c, "id"));
    EXPECT_EQ(num(c, "message_count"), static_cast<std::int64_t>(messages.size()))
        << "message_count disagrees with the stored messages: " << json::serialize(c);
    for (const auto& m : messages) ++stored[str(m, "provider_message_id")];
  }
  std::map<std::string, int> in_feed;
  for (const auto& e : all_events(key)) {
    if (str(e, "type") == "message.received") ++in_feed[str(member(e, "data"), "provider_message_id")];
  }

  int lost = 0, lost_events = 0;
  for (const auto& id : acked) {
    if (stored[id] != 1 && ++lost <= 10) ADD_FAILURE() << id << " was answered 200 but is stored " << stored[id] << " times";
    if (in_feed[id] != 1 && ++lost_events <= 10) {
      ADD_FAILURE() << id << " was answered 200 but has " << in_feed[id] << " message.received events";
    }
  }
  int duplicates = 0, strangers = 0;
  for (const auto& [id, n] : stored) {
    if (n > 1 && ++duplicates <= 10) ADD_FAILURE() << id << " stored " << n << " times";
    if (!attempted.contains(id) && ++strangers <= 10) ADD_FAILURE() << "stored but never sent: '" << id << "'";
  }
  for (const auto& [id, n] : in_feed) {
    if (n > 1 && ++duplicates <= 20) ADD_FAILURE() << id << " has " << n << " message.received events";
    if (n > 0 && stored[id] == 0) ADD_FAILURE() << id << " has an event but no message";
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(lost_events, 0);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(strangers, 0);

  // Dedup survived the crash too: redelivering acknowledged webhooks stores nothing new.
  std::size_t before = 0;
  for (const auto& [id, n] : stored) before += static_cast<std::size_t>(n);
  int redelivered = 0;
  for (const auto& id : acked) {
    if (++redelivered > 50) break;
    auto dash = id.rfind('-');
    int t = std::stoi(id.substr(std::string("wamid.flood-").size(), 1));
    int i = std::stoi(id.substr(dash + 1));
    std::string from = std::to_string(15550300000LL + (t * 7919 + i * 13) % contacts);
    std::string body = whatsapp_text(wa.account_id, {id, from, "flood message " + id, base_ts + i, "Flood"});
    auto r = public_request("POST", "/webhooks/whatsapp/" + channel_id, body, {meta_signature_header(wa.app_secret, body)});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  std::size_t after = 0;
  for (const auto& c : all_conversations(key)) after += all_messages(key, str(c, "id")).size();
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace parley::testing
