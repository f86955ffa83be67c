// The load engine's request writer: what it puts on the wire must parse as the request
// the subcommand asked for, and a spec that would split the request is refused.
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <string>

#include "parley_bench/load.hpp"

namespace parley::bench {
namespace {

namespace http = boost::beast::http;

http::request<http::string_body> parse(const std::string& wire) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(used, wire.size());
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

request_spec webhook_spec() {
  request_spec spec;
  spec.path = "/webhooks/whatsapp/ch_1";
  spec.body = R"({"object":"whatsapp_business_account"})";
  spec.headers.emplace_back("X-Hub-Signature-256", "sha256=00ff");
  return spec;
}

TEST(RequestWriter, APostParsesBackWithItsHeadersAndBody) {
  std::string wire;
  ASSERT_TRUE(serialize_request(webhook_spec(), "127.0.0.1", wire));
  auto req = parse(wire);
  EXPECT_EQ(req.method(), http::verb::post);
  EXPECT_EQ(req.target(), "/webhooks/whatsapp/ch_1");
  EXPECT_EQ(req.version(), 11);
  EXPECT_EQ(req[http::field::host], "127.0.0.1");
  EXPECT_EQ(req[http::field::content_type], "application/json");
  EXPECT_EQ(req["X-Hub-Signature-256"], "sha256=00ff");
  EXPECT_EQ(req[http::field::content_length], std::to_string(webhook_spec().body.size()));
  EXPECT_EQ(req.body(), webhook_spec().body);
  EXPECT_TRUE(req.keep_alive());
}

TEST(RequestWriter, AnEmptyPostSaysContentLengthZeroAndAGetSaysNothing) {
  request_spec post;
  post.path = "/v1/x";
  std::string wire;
  ASSERT_TRUE(serialize_request(post, "h", wire));
  EXPECT_EQ(parse(wire)[http::field::content_length], "0");

  request_spec get;
  get.method = "GET";
  get.path = "/v1/conversations";
  ASSERT_TRUE(serialize_request(get, "h", wire));
  auto req = parse(wire);
  EXPECT_EQ(req.method(), http::verb::get);
  EXPECT_EQ(req.count(http::field::content_length), 0U);
}

TEST(RequestWriter, TheBufferIsReplacedAndKeepsItsCapacity) {
  std::string wire;
  ASSERT_TRUE(serialize_request(webhook_spec(), "127.0.0.1", wire));
  const auto first = wire;
  const auto capacity = wire.capacity();
  ASSERT_TRUE(serialize_request(webhook_spec(), "127.0.0.1", wire));
  EXPECT_EQ(wire, first);
  EXPECT_EQ(wire.capacity(), capacity);
}

TEST(RequestWriter, ASpecThatWouldSplitTheRequestIsRefused) {
  std::string wire = "left over";
  auto bad_value = webhook_spec();
  bad_value.headers.emplace_back("X-Note", "a\r\nX-Injected: 1");
  EXPECT_FALSE(serialize_request(bad_value, "h", wire));
  EXPECT_TRUE(wire.empty());

  auto bad_name = webhook_spec();
  bad_name.headers.emplace_back("X-A: b", "c");
  EXPECT_FALSE(serialize_request(bad_name, "h", wire));

  auto bad_path = webhook_spec();
  bad_path.path = "/a b";
  EXPECT_FALSE(serialize_request(bad_path, "h", wire));

  auto no_path = webhook_spec();
  no_path.path.clear();
  EXPECT_FALSE(serialize_request(no_path, "h", wire));

  EXPECT_FALSE(serialize_request(webhook_spec(), "h\r\nX: y", wire));
}

}  // namespace
}  // namespace parley::bench
