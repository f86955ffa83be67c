// Backpressure end to end: with room for one webhook in flight, a concurrent flood gets
// 503 + Retry-After for what does not fit, nothing of a refused webhook is stored, and
// every 200 is stored exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/parley_fixture.hpp"
#include "support/webhook_payloads.hpp"

namespace parley::testing {
namespace {

class Overload : public parley_fixture {
 protected:
  parleyd_options options() const override { return parleyd_options{{"--max-webhooks-in-flight", "1"}, {}}; }
};

TEST_F(Overload, WebhooksBeyondTheLimitGet503AndAreNotStored) {
  auto key = create_tenant("acme");
  meta_channel wa;
  auto channel = create_channel("acme", wa.to_json());
  std::mutex mutex;
  std::set<std::string> accepted;
  std::atomic<int> refused{0}, refused_without_retry_after{0}, other{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string wamid = "wamid.ovl." + std::to_string(t) + "." + std::to_string(i);
        auto w = signed_meta(wa, channel, whatsapp_text(wa.account_id, wa_message{wamid, "1555020" + std::to_string(1000 + t), "x", 1'790'000'000 + i, "C"}));
        auto r = public_request("POST", w.path, w.body, w.headers);
        if (r.status == 200) {
          std::lock_guard lock(mutex);
          accepted.insert(wamid);
        } else if (r.status == 503) {
          ++refused;
          if (r.headers.find("retry-after:") == std::string::npos) ++refused_without_retry_after;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0) << "8 concurrent senders never overlapped";
  EXPECT_EQ(refused_without_retry_after.load(), 0);
  ASSERT_FALSE(accepted.empty());
  std::set<std::string> stored;
  std::size_t total = 0;
  for (const auto& c : all_conversations(key)) {
    for (const auto& m : all_messages(key, str(c, "id"))) {
      stored.insert(str(m, "provider_message_id"));
      ++total;
    }
  }
  EXPECT_EQ(total, stored.size()) << "a message was stored twice";
  EXPECT_EQ(stored, accepted) << "stored messages must be exactly the acknowledged ones";
}

}  // namespace
}  // namespace parley::testing
