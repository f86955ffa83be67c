#include <gtest/gtest.h>

#include "providers/provider.hpp"

namespace parley::engine::providers {
namespace {

constexpr std::string_view body = R"({"object":"whatsapp_business_account","entry":[]})";

std::string header_for(std::string_view secret, std::string_view data) { return "sha256=" + hmac_sha256_hex(secret, data); }

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, EmptyKeyAndData) {
  EXPECT_EQ(hmac_sha256_hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(MetaSignature, AcceptsCorrectSignature) {
  EXPECT_TRUE(verify_meta_signature("app-secret", body, header_for("app-secret", body)));
}

TEST(MetaSignature, AcceptsKnownVectorAndUppercaseHex) {
  const std::string hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_TRUE(verify_meta_signature("Jefe", "what do ya want for nothing?", "sha256=" + hex));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_meta_signature("Jefe", "what do ya want for nothing?", "sha256=" + upper));
}

TEST(MetaSignature, RejectsWrongSecret) {
  EXPECT_FALSE(verify_meta_signature("app-secret", body, header_for("other-secret", body)));
}

TEST(MetaSignature, RejectsAlteredBody) {
  std::string altered(body);
  altered[2] = 'O';
  EXPECT_FALSE(verify_meta_signature("app-secret", altered, header_for("app-secret", body)));
}

TEST(MetaSignature, RejectsMissingHeader) {
  EXPECT_FALSE(verify_meta_signature("app-secret", body, std::nullopt));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, ""));
}

TEST(MetaSignature, RejectsWrongPrefix) {
  const std::string hex = hmac_sha256_hex("app-secret", body);
  EXPECT_FALSE(verify_meta_signature("app-secret", body, "sha1=" + hex));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, "SHA256=" + hex));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, hex));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, " sha256=" + hex));
}

TEST(MetaSignature, RejectsBadHexLength) {
  const std::string good = header_for("app-secret", body);
  EXPECT_FALSE(verify_meta_signature("app-secret", body, good.substr(0, good.size() - 1)));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, good + "0"));
  EXPECT_FALSE(verify_meta_signature("app-secret", body, "sha256="));
}

TEST(MetaSignature, RejectsNonHexCharacters) {
  std::string bad = header_for("app-secret", body);
  bad.back() = 'g';
  EXPECT_FALSE(verify_meta_signature("app-secret", body, bad));
}

TEST(MetaSignature, RejectsEverythingWithEmptySecret) {
  EXPECT_FALSE(verify_meta_signature("", body, header_for("", body)));
}

TEST(MetaChallenge, EchoesChallengeWhenTokenMatches) {
  EXPECT_EQ(meta_challenge("subscribe", "verify-me", "1158201444", "verify-me"), "1158201444");
}

TEST(MetaChallenge, RefusesWrongTokenModeOrMissingValues) {
  EXPECT_FALSE(meta_challenge("subscribe", "wrong", "1158201444", "verify-me"));
  EXPECT_FALSE(meta_challenge("subscribe", "verify-m", "1158201444", "verify-me"));
  EXPECT_FALSE(meta_challenge("unsubscribe", "verify-me", "1158201444", "verify-me"));
  EXPECT_FALSE(meta_challenge(std::nullopt, "verify-me", "1158201444", "verify-me"));
  EXPECT_FALSE(meta_challenge("subscribe", std::nullopt, "1158201444", "verify-me"));
  EXPECT_FALSE(meta_challenge("subscribe", "verify-me", std::nullopt, "verify-me"));
  EXPECT_FALSE(meta_challenge("subscribe", "verify-me", "", "verify-me"));
  EXPECT_FALSE(meta_challenge("subscribe", "", "1158201444", ""));  // unconfigured token
}

TEST(TelegramToken, AcceptsExactTokenOnly) {
  EXPECT_TRUE(verify_telegram_token("s3cr3t_T0ken-x", "s3cr3t_T0ken-x"));
  EXPECT_FALSE(verify_telegram_token("s3cr3t_T0ken-x", "s3cr3t_T0ken-y"));
  EXPECT_FALSE(verify_telegram_token("s3cr3t_T0ken-x", "s3cr3t_T0ken"));
  EXPECT_FALSE(verify_telegram_token("s3cr3t_T0ken-x", "s3cr3t_T0ken-xx"));
  EXPECT_FALSE(verify_telegram_token("s3cr3t_T0ken-x", std::nullopt));
  EXPECT_FALSE(verify_telegram_token("s3cr3t_T0ken-x", ""));
  EXPECT_FALSE(verify_telegram_token("", ""));  // unconfigured token
}

// "postmark:inbound-pass" and variants, base64-encoded.
TEST(BasicAuth, AcceptsRightCredentials) {
  EXPECT_TRUE(verify_basic_auth("postmark", "inbound-pass", "Basic cG9zdG1hcms6aW5ib3VuZC1wYXNz"));
  EXPECT_TRUE(verify_basic_auth("postmark", "inbound-pass", "basic cG9zdG1hcms6aW5ib3VuZC1wYXNz"));
  EXPECT_TRUE(verify_basic_auth("postmark", "inbound-pass", "BASIC  cG9zdG1hcms6aW5ib3VuZC1wYXNz"));
}

TEST(BasicAuth, PasswordMayContainColons) {
  // "u:p:w:x"
  EXPECT_TRUE(verify_basic_auth("u", "p:w:x", "Basic dTpwOnc6eA=="));
}

TEST(BasicAuth, RejectsWrongPassword) {
  // "postmark:inbound-pasS"
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic cG9zdG1hcms6aW5ib3VuZC1wYXNT"));
}

TEST(BasicAuth, RejectsWrongUser) {
  // "postmarK:inbound-pass"
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic cG9zdG1hcks6aW5ib3VuZC1wYXNz"));
}

TEST(BasicAuth, RejectsMalformedBase64) {
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic cG9zdG1hcms6aW5ib3VuZC1wYXNz!"));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic %%%"));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic "));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basic cG9zdG1hcms="));  // "postmark": no colon
}

TEST(BasicAuth, RejectsMissingHeaderAndOtherSchemes) {
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", std::nullopt));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", ""));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Bearer cG9zdG1hcms6aW5ib3VuZC1wYXNz"));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "Basiccg"));
  EXPECT_FALSE(verify_basic_auth("postmark", "inbound-pass", "cG9zdG1hcms6aW5ib3VuZC1wYXNz"));
}

TEST(BasicAuth, RejectsEverythingWithoutConfiguredCredentials) {
  EXPECT_FALSE(verify_basic_auth("", "", "Basic Og=="));  // ":"
}

}  // namespace
}  // namespace parley::engine::providers
