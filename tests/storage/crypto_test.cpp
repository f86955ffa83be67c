#include "parley/storage/crypto.hpp"

#include <gtest/gtest.h>

namespace parley::storage {
namespace {

TEST(Crypto, SealThenOpenReturnsPlaintext) {
  auto key = aead_key::random();
  std::string sealed, opened;
  ASSERT_TRUE(seal(key, "aad", "hello world", sealed).ok());
  EXPECT_EQ(sealed.size(), 11 + aead_overhead);
  EXPECT_EQ(sealed.find("hello"), std::string::npos);
  ASSERT_TRUE(open(key, "aad", sealed, opened).ok());
  EXPECT_EQ(opened, "hello world");
}

TEST(Crypto, SealingTwiceGivesDifferentCiphertexts) {
  auto key = aead_key::random();
  std::string a, b;
  ASSERT_TRUE(seal(key, "", "same", a).ok());
  ASSERT_TRUE(seal(key, "", "same", b).ok());
  EXPECT_NE(a, b);
}

TEST(Crypto, WrongKeyAadOrAlteredBytesFailToOpen) {
  auto key = aead_key::random();
  std::string sealed, out;
  ASSERT_TRUE(seal(key, "messages/k1", std::string(1024, 'x'), sealed).ok());
  EXPECT_EQ(open(aead_key::random(), "messages/k1", sealed, out).code(), errc::corruption);
  EXPECT_EQ(open(key, "messages/k2", sealed, out).code(), errc::corruption);
  for (std::size_t pos : {std::size_t{0}, std::size_t{20}, sealed.size() - 1}) {
    std::string altered = sealed;
    altered[pos] ^= 0x01;
    EXPECT_EQ(open(key, "messages/k1", altered, out).code(), errc::corruption) << pos;
  }
  EXPECT_EQ(open(key, "messages/k1", "short", out).code(), errc::corruption);
  EXPECT_TRUE(out.empty());
}

// AAD in two pieces authenticates exactly the joined bytes, wherever the split falls:
// each split opens what the joined AAD sealed and the other way round; other bytes fail.
TEST(Crypto, AadInTwoPartsIsTheJoinedAad) {
  auto key = aead_key::random();
  const std::string joined("\x01tenant\x00\x01key", 12);
  std::string out;
  for (std::size_t split = 0; split <= joined.size(); ++split) {
    const aad_parts parts{std::string_view(joined).substr(0, split), std::string_view(joined).substr(split)};
    std::string by_parts, by_joined;
    ASSERT_TRUE(seal(key, parts, "body", by_parts).ok());
    ASSERT_TRUE(seal(key, joined, "body", by_joined).ok());
    out.clear();
    ASSERT_TRUE(open(key, joined, by_parts, out).ok()) << split;
    EXPECT_EQ(out, "body");
    out.clear();
    ASSERT_TRUE(open(key, parts, by_joined, out).ok()) << split;
    EXPECT_EQ(out, "body");
    EXPECT_EQ(open(key, aad_parts{parts.head, "other"}, by_parts, out).code(), errc::corruption) << split;
  }
}
// A thread keeps the last key it used set up in its context; every switch between keys,
// in both directions and after a failed open, must still use the key it is given.
TEST(Crypto, SwitchingKeysOnOneThreadUsesEachKey) {
  auto a = aead_key::random();
  auto b = aead_key::random();
  const std::string body(300, 'p');
  std::string under_a, under_b, again_a, out;
  ASSERT_TRUE(seal(a, "x", body, under_a).ok());
  ASSERT_TRUE(seal(b, "x", body, under_b).ok());
  ASSERT_TRUE(seal(a, "x", body, again_a).ok());
  for (const auto* sealed : {&under_a, &again_a}) {
    out.clear();
    ASSERT_TRUE(open(a, "x", *sealed, out).ok());
    EXPECT_EQ(out, body);
    EXPECT_EQ(open(b, "x", *sealed, out).code(), errc::corruption);
  }
  out.clear();
  EXPECT_EQ(open(a, "x", under_b, out).code(), errc::corruption);  // a failed open, then the right key
  ASSERT_TRUE(open(b, "x", under_b, out).ok());
  EXPECT_EQ(out, body);
  // A key with the same bytes as another (a copy) opens what the original sealed.
  auto copy = aead_key::from_bytes(b.view());
  ASSERT_TRUE(copy.ok());
  out.clear();
  ASSERT_TRUE(open(*copy, "x", under_b, out).ok());
  EXPECT_EQ(out, body);
}

TEST(Crypto, KeysRoundTripThroughBase64) {
  auto key = aead_key::random();
  auto parsed = aead_key::from_base64(key.to_base64());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->view(), key.view());
  EXPECT_FALSE(aead_key::from_base64("not base64!").ok());
  EXPECT_FALSE(aead_key::from_base64(base64_encode(std::string(31, 'k'))).ok());
  EXPECT_FALSE(aead_key::from_base64("").ok());
}

TEST(Crypto, Base64MatchesKnownVectors) {
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_decode("Zg==").value(), "f");
  EXPECT_EQ(base64_decode("Zm8=").value(), "fo");
  EXPECT_EQ(base64_decode("Zm9vYmFy\n").value(), "foobar");
  EXPECT_FALSE(base64_decode("Zm9").ok());
}

TEST(Crypto, ConstantTimeEqualComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace parley::storage
