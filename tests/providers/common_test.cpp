#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

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

// The escaping every byte gets, one byte at a time: what the word-at-a-time scan must match.
std::string escaped_bytewise(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST(JsonWriter, EscapesEveryByteAtEveryOffsetOfALongRun) {
  // Runs longer than a word put each special byte at every position within and across
  // the eight-byte words the scan reads, with clean words before and after it.
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < 27; ++at) {
      std::string s(27, 'x');
      s[at] = static_cast<char>(c);
      std::string out;
      parley::json_writer::escape_into(out, s);
      ASSERT_EQ(out, escaped_bytewise(s)) << "byte " << c << " at " << at;
    }
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string out = "prefix:";
  parley::json_writer::escape_into(out, all + all);
  EXPECT_EQ(out, "prefix:" + escaped_bytewise(all + all));
  out.clear();
  parley::json_writer::escape_into(out, "");
  EXPECT_EQ(out, "\"\"");
}

std::string strftime_utc(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

TEST(JsonWriter, FormatsRfc3339AsGmtimeDoes) {
  EXPECT_EQ(parley::format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parley::format_rfc3339(1749416383123), "2025-06-08T20:59:43Z");
  EXPECT_EQ(parley::format_rfc3339(951782400000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(parley::format_rfc3339(4107542400000), "2100-03-01T00:00:00Z");
  EXPECT_EQ(parley::format_rfc3339(-1), "1970-01-01T00:00:00Z");  // seconds truncate toward zero
  EXPECT_EQ(parley::format_rfc3339(-1000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(parley::format_rfc3339(253402300799000), "9999-12-31T23:59:59Z");
  EXPECT_EQ(parley::format_rfc3339(253402300800000), strftime_utc(253402300800000));  // year 10000
  EXPECT_EQ(parley::format_rfc3339(-62167219200000), "0000-01-01T00:00:00Z");
  EXPECT_EQ(parley::format_rfc3339(-62167219201000), strftime_utc(-62167219201000));  // year -1
  // Spread over the years 1600 to 2600, one step being a prime number of milliseconds
  // so seconds, leap days and century years all come round.
  for (std::int64_t ms = -11676096000000; ms < 19880000000000; ms += 3'124'999'997) {
    ASSERT_EQ(parley::format_rfc3339(ms), strftime_utc(ms)) << ms;
  }
  for (std::int64_t day = -1000; day < 1000; ++day) {  // each day boundary around 1970
    ASSERT_EQ(parley::format_rfc3339(day * 86'400'000), strftime_utc(day * 86'400'000)) << day;
    ASSERT_EQ(parley::format_rfc3339(day * 86'400'000 - 1000), strftime_utc(day * 86'400'000 - 1000)) << day;
  }
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
  EXPECT_EQ(parse_iso8601_ms("2000-02-29T00:00:00Z"), 951782400000);   // every 400 years a leap year
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59Z"), -1000);
}

TEST(TimeParse, Iso8601RejectsInvalid) {
  EXPECT_FALSE(parse_iso8601_ms(""));
  EXPECT_FALSE(parse_iso8601_ms("2014-08-01"));
  EXPECT_FALSE(parse_iso8601_ms("2014-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("1900-02-29T00:00:00Z"));  // a century, not a leap year
  EXPECT_FALSE(parse_iso8601_ms("2014-04-31T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2014-00-10T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_ms("2014-01-00T00:00:00Z"));
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
