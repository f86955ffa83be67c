// parley-bench's webhooks must pass the product's own checks: each provider's body is
// verified with the channel's credential and normalizes to one message with the id the
// bench expects to be deduplicated on.
#include "parley_bench/payloads.hpp"

#include <gtest/gtest.h>

#include "providers/provider.hpp"

namespace parley::bench {
namespace {

namespace pv = parley::engine::providers;

std::optional<std::string_view> header(const signed_webhook& w, std::string_view name) {
  for (const auto& [k, v] : w.headers) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

result<normalized_webhook> normalize(provider p, const std::string& body) {
  switch (p) {
    case provider::whatsapp: return pv::normalize_whatsapp(body, {std::string(whatsapp_phone_number_id)});
    case provider::messenger: return pv::normalize_messenger(body, channel_type::messenger, {std::string(messenger_page_id)});
    case provider::instagram:
      return pv::normalize_messenger(body, channel_type::instagram, {std::string(instagram_account_id)});
    case provider::telegram: return pv::normalize_telegram(body);
    case provider::postmark: return pv::normalize_postmark_inbound(body);
  }
  return make_error(errc::internal, "unreachable");
}

bool verifies(provider p, const std::string& secret, const signed_webhook& w) {
  switch (p) {
    case provider::whatsapp:
    case provider::messenger:
    case provider::instagram: return pv::verify_meta_signature(secret, w.body, header(w, "X-Hub-Signature-256"));
    case provider::telegram: return pv::verify_telegram_token(secret, header(w, "X-Telegram-Bot-Api-Secret-Token"));
    case provider::postmark: {
      auto colon = secret.find(':');
      return pv::verify_basic_auth(secret.substr(0, colon), secret.substr(colon + 1), header(w, "Authorization"));
    }
  }
  return false;
}

class Payloads : public ::testing::TestWithParam<provider> {};

TEST_P(Payloads, AreSignedAndNormalizeToTheExpectedMessage) {
  provider p = GetParam();
  std::string secret = p == provider::postmark ? "user:p@ss:word" : "bench-secret-123";
  channel_target target{p, "/webhooks/x", secret};
  auto w = make_webhook(target, message_seed{42, 3, 7, 11, 0}, 1024);
  EXPECT_TRUE(verifies(p, secret, w)) << provider_name(p);
  channel_target wrong{p, "/webhooks/x", p == provider::postmark ? "user:other" : "other-secret"};
  EXPECT_FALSE(verifies(p, secret, make_webhook(wrong, message_seed{42, 3, 7, 11, 0}, 1024))) << provider_name(p);
  auto n = normalize(p, w.body);
  ASSERT_TRUE(n.ok()) << provider_name(p) << ": " << n.err().message;
  ASSERT_EQ(n->messages.size(), 1u);
  EXPECT_EQ(n->messages[0].provider_message_id, w.provider_message_id);
  EXPECT_EQ(n->messages[0].kind, p == provider::postmark ? message_kind::email : message_kind::text);
  EXPECT_NEAR(static_cast<double>(w.body.size()), 1024.0, 64.0);
}

TEST_P(Payloads, TheSameSeedGivesTheSameBytesAndAnotherSeedAnotherId) {
  provider p = GetParam();
  channel_target target{p, "/webhooks/x", p == provider::postmark ? "u:p" : "s"};
  auto a = make_webhook(target, message_seed{1, 2, 3, 4, 0}, 512);
  auto b = make_webhook(target, message_seed{1, 2, 3, 4, 0}, 512);
  auto c = make_webhook(target, message_seed{1, 2, 4, 4, 0}, 512);
  auto d = make_webhook(target, message_seed{2, 2, 3, 4, 0}, 512);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_NE(a.provider_message_id, c.provider_message_id);
  EXPECT_NE(a.provider_message_id, d.provider_message_id);
}

INSTANTIATE_TEST_SUITE_P(EveryProvider, Payloads,
                         ::testing::Values(provider::whatsapp, provider::messenger, provider::instagram, provider::telegram,
                                           provider::postmark),
                         [](const auto& info) { return std::string(provider_name(info.param)); });

TEST(Hmac, MatchesRfc4231) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");  // the cached context again
}

}  // namespace
}  // namespace parley::bench
