#include <gtest/gtest.h>

#include "providers/common/crypto.hpp"
#include "parley/json_writer.hpp"
#include "providers/common/time_parse.hpp"

namespace parley::engine::providers::detail {
namespace {

TEST(JsonWriter, WritesCompactObjectsWithCommas) {
  json_writer w;
  w.begin_object().field("a", "x").key("n").number(std::int64_t{-5}).key("list").begin_array();
  w.number(1.5).boolean(true).null().begin_object().end_object().end_array();
  w.field_if("absent", std::nullopt).field_if("present", std::string_view("y")).end_object();
  EXPECT_EQ(w.str(), R"({"a":"x","n":-5,"list":[1.5,true,null,{}],"present":"y"})");
}

TEST(JsonWriter, EscapesQuotesBackslashAndControlCharactersKeepsUtf8) {
  std::string out;
  parley::json_writer::escape_into(out, std::string("a\"b\\c\n\t\x01\x1f") + std::string(1, '\0') + "é😀");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u001f\\u0000é😀\"");
}

TEST(JsonWriter, WritesShortestDoubles) {
  json_writer w;
  w.begin_array().number(37.4219999).number(-122.0840575).number(0.1).end_array();
  EXPECT_EQ(w.str(), "[37.4219999,-122.0840575,0.1]");
}

TEST(TimeParse, Iso8601WithZoneFractionAndOffset) {
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_ms("2014-08-01T20:45:32Z"), 1406925932000);
  EXPECT_EQ(parse_iso8601_ms("2014-08-01T13:28:10.2735393-04:00"), 1406914090273);
  EXPECT_EQ(parse_iso8601_ms("2014-08-01T17:28:10.27Z"), 1406914090270);
  EXPECT_EQ(parse_iso8601_ms("2014-08-01T19:28:10+0200"), 1406914090000);
  EXPECT_EQ(parse_iso8601_ms("2024-02-29T00:00:00"), 1709164800000);  // no zone: UTC
}

TEST(TimeParse, Iso8601RejectsInvalid) {
  EXPECT_FALSE(parse_iso8601_ms(""));
  EXPECT_FALSE(parse_iso8601_ms("2014-08-01"));
  EXPECT_FALSE(parse_iso8601_ms("2014-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2014-08-01T24:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2014-08-01T10:00:00Zjunk"));
}

TEST(TimeParse, Rfc2822Forms) {
  EXPECT_EQ(parse_rfc2822_ms("Fri, 1 Aug 2014 16:45:32 -0400"), 1406925932000);
  EXPECT_EQ(parse_rfc2822_ms("1 Aug 2014 20:45:32 +0000"), 1406925932000);
  EXPECT_EQ(parse_rfc2822_ms("Fri, 01 Aug 2014 20:45:32 GMT"), 1406925932000);
  EXPECT_EQ(parse_rfc2822_ms("Fri, 1 Aug 2014 13:45:32 PDT"), 1406925932000);
  EXPECT_EQ(parse_rfc2822_ms("Fri, 1 Aug 2014 20:45:32 +0000 (UTC)"), 1406925932000);
  EXPECT_EQ(parse_rfc2822_ms("Fri, 1 Aug 14 20:45 +0000"), 1406925900000);
}

TEST(TimeParse, Rfc2822RejectsInvalid) {
  EXPECT_FALSE(parse_rfc2822_ms(""));
  EXPECT_FALSE(parse_rfc2822_ms("yesterday"));
  EXPECT_FALSE(parse_rfc2822_ms("Fri, 1 Foo 2014 16:45:32 -0400"));
  EXPECT_FALSE(parse_rfc2822_ms("Fri, 31 Feb 2014 16:45:32 -0400"));
  EXPECT_FALSE(parse_rfc2822_ms("2014-08-01T20:45:32Z"));
  EXPECT_FALSE(parse_rfc2822_ms("Fri, 1 Aug 2014 16:45:32 XYZ"));
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret!"));
  EXPECT_FALSE(constant_time_equal("", "x"));
}

TEST(Crypto, Base64DecodeStrict) {
  char out[32];
  auto n = base64_decode("dXNlcjpwYXNz", out, sizeof out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string_view(out, *n), "user:pass");
  n = base64_decode("YTpi", out, sizeof out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string_view(out, *n), "a:b");
  n = base64_decode("YTpiYw==", out, sizeof out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string_view(out, *n), "a:bc");
  n = base64_decode("YTpiYw", out, sizeof out);  // padding optional
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string_view(out, *n), "a:bc");
  EXPECT_FALSE(base64_decode("YTpiY", out, sizeof out));
  EXPECT_FALSE(base64_decode("YT!i", out, sizeof out));
  EXPECT_FALSE(base64_decode("YTpiYw=", out, sizeof out));
  EXPECT_FALSE(base64_decode("dXNlcjpwYXNz", out, 4));  // does not fit
}

}  // namespace
}  // namespace parley::engine::providers::detail
