// Tests of the HTTP edge (engine/http): the router on its own, then a real server on
// 127.0.0.1:0 with an io_context run by two threads and a small blocking client. No test
// sleeps to synchronize: they wait on futures or on the socket; every client operation
// has a generous deadline so a bug fails a test instead of hanging it.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "engine/http/server.hpp"
#include "support/tls_material.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace parley::engine::http;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;   // NOLINT(google-build-using-namespace)
using error_code = beast::error_code;
using raw_response = bhttp::response<bhttp::string_body>;

/// Upper bound for anything a test waits on; only hit when something is broken.
constexpr auto k_deadline = 20s;

// ---- TLS material ------------------------------------------------------------------------

using parley::testing::make_self_signed;
using parley::testing::tls_material;

// ---- server harness ----------------------------------------------------------------------

/// A server on 127.0.0.1:0 over an io_context run by two threads. Shuts down (drain,
/// then stop the threads) when destroyed.
class harness {
 public:
  harness(server_options options, std::shared_ptr<router> routes) {
    options.host = "127.0.0.1";
    options.port = 0;
    srv_ = std::make_unique<server>(io_, std::move(options), std::move(routes));
    auto bound = srv_->listen();
    if (!bound.ok()) throw std::runtime_error("listen failed: " + bound.err().message);
    address_ = *bound;
    port_ = static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~harness() {
    drain_and_wait();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  harness(const harness&) = delete;
  harness& operator=(const harness&) = delete;

  /// Stops the server and waits until every connection is closed, so counters that a
  /// closing connection updates are final.
  bool drain_and_wait() {
    std::promise<void> drained;
    srv_->drain([&drained] { drained.set_value(); });
    return drained.get_future().wait_for(k_deadline) == std::future_status::ready;
  }

  server& srv() { return *srv_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<server> srv_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

// ---- client ------------------------------------------------------------------------------

/// A blocking client over its own single-threaded io_context: each call runs one
/// operation to completion under a deadline.
template <class Stream>
class basic_client {
 public:
  static constexpr bool k_tls = !std::is_same_v<Stream, beast::tcp_stream>;

  explicit basic_client(std::uint16_t port, asio::ssl::context* tls = nullptr)
      : stream_(make_stream(ioc_, tls)) {
    const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    connect_error_ = run([&](auto h) { beast::get_lowest_layer(stream_).async_connect(ep, h); });
    if constexpr (k_tls) {
      if (!connect_error_) {
        SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
        stream_.set_verify_callback(asio::ssl::host_name_verification("localhost"));
        connect_error_ = run([&](auto h) { stream_.async_handshake(asio::ssl::stream_base::client, h); });
      }
    }
  }

  [[nodiscard]] error_code connect_error() const { return connect_error_; }

  error_code write(std::string_view data) {
    return run([&](auto h) { asio::async_write(stream_, asio::buffer(data.data(), data.size()), h); });
  }

  /// Reads one response; `head` skips the body a HEAD response announces.
  raw_response read(error_code& ec, bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 << 20);
    parser.skip(head);
    ec = run([&](auto h) { bhttp::async_read(stream_, buffer_, parser, h); });
    return ec ? raw_response{} : parser.release();
  }

  raw_response read(bool head = false) {
    error_code ec;
    auto res = read(ec, head);
    EXPECT_FALSE(ec) << ec.message();
    return res;
  }

  raw_response roundtrip(std::string_view raw_request) {
    EXPECT_FALSE(write(raw_request));
    return read();
  }

  /// Reads until the server closes; returns how the read ended (eof when closed cleanly,
  /// beast::error::timeout when the server never closed).
  error_code read_until_closed() {
    while (true) {
      if (buffer_.size() > 0) buffer_.consume(buffer_.size());
      std::size_t n = 0;
      const auto ec = run([&](auto h) {
        stream_.async_read_some(buffer_.prepare(4096), [&n, h](error_code e, std::size_t got) mutable {
          n = got;
          h(e, got);
        });
      });
      buffer_.commit(n);
      if (ec) return ec;
    }
  }

 private:
  static Stream make_stream(asio::io_context& ioc, asio::ssl::context* tls) {
    if constexpr (k_tls) {
      return Stream(ioc, *tls);
    } else {
      return Stream(ioc);
    }
  }

  template <class Start>
  error_code run(Start&& start) {
    error_code result = asio::error::would_block;
    beast::get_lowest_layer(stream_).expires_after(k_deadline);
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  asio::io_context ioc_;
  Stream stream_;
  beast::flat_buffer buffer_;
  error_code connect_error_;
};

using client = basic_client<beast::tcp_stream>;
using tls_client = basic_client<beast::ssl_stream<beast::tcp_stream>>;

std::string get(std::string_view target, std::string_view extra_headers = {}) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body, std::string_view extra_headers = {}) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: test\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

bool is_closed(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated;
}

bool is_generated_id(std::string_view id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// Routes most tests share: an echo handler that reports what it saw.
std::shared_ptr<router> echo_routes(std::atomic<int>* calls = nullptr) {
  auto routes = std::make_shared<router>();
  auto echo = [calls](std::shared_ptr<const request> req, responder r) {
    if (calls != nullptr) ++*calls;
    std::string body = "path=" + req->path + ";id=" + std::string(req->param("id")) +
                       ";x=" + req->query_param("x").value_or("-") +
                       ";y=" + req->query_param("y").value_or("-") +
                       ";ua=" + std::string(req->header("User-Agent").value_or("-")) +
                       ";rid=" + req->request_id + ";body=" + req->body;
    auto res = response::json(200, std::move(body));
    res.content_type = "text/plain";
    r.send(std::move(res));
  };
  routes->add(method::get, "/channels/{id}/messages", echo);
  routes->add(method::post, "/channels/{id}/messages", echo);
  routes->add(method::get, "/echo/{id}", echo);
  routes->add(method::post, "/echo/{id}", echo);
  return routes;
}

// ---- router, request, response (no network) -----------------------------------------------

TEST(HttpRouter, MatchesExactSegmentsAndParameters) {
  router routes;
  int hit = 0;
  routes.add(method::get, "/v1/events", [&](auto, auto) { hit = 1; });
  routes.add(method::post, "/webhooks/whatsapp/{channel_id}", [&](auto, auto) { hit = 2; });
  routes.add(method::get, "/a/{x}/b/{y}", [&](auto, auto) { hit = 3; });

  auto m = routes.match(method::post, "/webhooks/whatsapp/ch_42");
  ASSERT_NE(m.target, nullptr);
  (*m.target)(nullptr, responder{});
  EXPECT_EQ(hit, 2);
  ASSERT_EQ(m.params.size(), 1U);
  EXPECT_EQ(m.params[0].first, "channel_id");
  EXPECT_EQ(m.params[0].second, "ch_42");

  m = routes.match(method::get, "/a/1/b/2");
  ASSERT_NE(m.target, nullptr);
  ASSERT_EQ(m.params.size(), 2U);
  EXPECT_EQ(m.params[1].second, "2");

  EXPECT_EQ(routes.match(method::get, "/webhooks/whatsapp").status, 404U);
  EXPECT_EQ(routes.match(method::get, "/webhooks/whatsapp/x/y").status, 404U);
  EXPECT_EQ(routes.match(method::post, "/webhooks/whatsapp/").status, 404U);  // empty param
  EXPECT_EQ(routes.match(method::get, "/nope").status, 404U);
}

TEST(HttpRouter, KnownPathWrongMethodIs405WithAllow) {
  router routes;
  routes.add(method::get, "/v1/events", [](auto, auto) {});
  routes.add(method::post, "/v1/events", [](auto, auto) {});
  const auto m = routes.match(method::del, "/v1/events");
  EXPECT_EQ(m.target, nullptr);
  EXPECT_EQ(m.status, 405U);
  EXPECT_EQ(m.allow, "GET, POST, HEAD");
  EXPECT_EQ(routes.match(method::other, "/v1/events").status, 405U);
  // HEAD falls back to GET.
  EXPECT_NE(routes.match(method::head, "/v1/events").target, nullptr);
}

// A route tried before the one that answers leaves none of its parameters behind, and
// HEAD served by a GET route gets that route's parameters.
TEST(HttpRouter, ParametersComeOnlyFromTheRouteThatAnswers) {
  router routes;
  routes.add(method::post, "/v1/{a}/{b}/x", [](auto, auto) {});
  routes.add(method::get, "/v1/{id}/{sub}/y", [](auto, auto) {});
  auto m = routes.match(method::get, "/v1/c1/s1/y");
  ASSERT_NE(m.target, nullptr);
  ASSERT_EQ(m.params.size(), 2U);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "c1"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"sub", "s1"}));
  m = routes.match(method::head, "/v1/c2/s2/y");
  ASSERT_NE(m.target, nullptr);
  ASSERT_EQ(m.params.size(), 2U);
  EXPECT_EQ(m.params[0].second, "c2");
  EXPECT_TRUE(routes.match(method::get, "/v1/c1/s1/x").params.empty());  // 405: nothing matched by method
}

TEST(HttpRouter, RefusesAPatternWithMoreParametersThanItHolds) {
  router routes;
  std::string pattern;
  for (std::size_t i = 0; i <= router::max_route_params; ++i) pattern += "/{p" + std::to_string(i) + "}";
  EXPECT_THROW(routes.add(method::get, pattern, [](auto, auto) {}), std::invalid_argument);
  pattern = pattern.substr(0, pattern.rfind('/'));
  EXPECT_NO_THROW(routes.add(method::get, pattern, [](auto, auto) {}));
  std::string path;
  for (std::size_t i = 0; i < router::max_route_params; ++i) path += "/v" + std::to_string(i);
  const auto m = routes.match(method::get, path);
  ASSERT_NE(m.target, nullptr);
  ASSERT_EQ(m.params.size(), router::max_route_params);
  EXPECT_EQ(m.params.back().second, "v" + std::to_string(router::max_route_params - 1));
}

TEST(HttpRequest, AccessorsDecodeQueryAndIgnoreHeaderCase) {
  request req;
  req.query = "a=1&b=x+y%21&c&d=%zz&e%5F=k&a=2";
  req.headers = {{"content-type", "application/json"}};
  req.params = {{"channel_id", "c1"}};
  EXPECT_EQ(req.query_param("a"), "1");
  EXPECT_EQ(req.query_param("b"), "x y!");
  EXPECT_EQ(req.query_param("c"), "");
  EXPECT_EQ(req.query_param("d"), "%zz");
  EXPECT_EQ(req.query_param("e_"), "k");
  EXPECT_EQ(req.query_param("z"), std::nullopt);
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  EXPECT_EQ(req.header("X-Missing"), std::nullopt);
  EXPECT_EQ(req.param("channel_id"), "c1");
  EXPECT_EQ(req.param("other"), "");
}

TEST(HttpResponse, ErrorIsEscapedJson) {
  const auto r = response::error(400, "bad_request", "a \"quoted\"\nline\\");
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"bad_request","message":"a \"quoted\"\nline\\"}})");
}

// ---- server ------------------------------------------------------------------------------

TEST(HttpServer, RoutesToHandlerWithParamsQueryAndHeaders) {
  harness h({}, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.connect_error());
  const auto res = c.roundtrip(get("/channels/ab%20c/messages?x=1&y=a+b%21", "User-Agent: t/1\r\n"));
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_EQ(res["Content-Type"], "text/plain");
  EXPECT_EQ(res["Server"], "parley");
  const std::string rid(res["X-Request-Id"]);
  EXPECT_TRUE(is_generated_id(rid)) << rid;
  EXPECT_EQ(res.body(), "path=/channels/ab c/messages;id=ab c;x=1;y=a b!;ua=t/1;rid=" + rid + ";body=");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
}

TEST(HttpServer, UnknownPathIs404Json) {
  harness h({}, echo_routes());
  client c(h.port());
  const auto res = c.roundtrip(get("/nowhere"));
  EXPECT_EQ(res.result_int(), 404U);
  EXPECT_EQ(res["Content-Type"], "application/json");
  EXPECT_EQ(res.body(), R"({"error":{"code":"not_found","message":"no route for this path"}})");
  EXPECT_FALSE(res["X-Request-Id"].empty());
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  harness h({}, echo_routes());
  client c(h.port());
  const auto res = c.roundtrip("DELETE /echo/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(res.result_int(), 405U);
  EXPECT_EQ(res["Allow"], "GET, POST, HEAD");
  EXPECT_NE(res.body().find(R"("code":"method_not_allowed")"), std::string::npos);
  // The connection is still usable after a 405.
  EXPECT_EQ(c.roundtrip(get("/echo/2")).result_int(), 200U);
}

TEST(HttpServer, HeadIsAnsweredLikeGetWithoutBody) {
  harness h({}, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.write("HEAD /echo/1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto head = c.read(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200U);
  EXPECT_NE(head[bhttp::field::content_length], "0");
  EXPECT_TRUE(head.body().empty());
  // Had the server sent body bytes, this next response would be garbage.
  EXPECT_EQ(c.roundtrip(get("/echo/2")).result_int(), 200U);
}

TEST(HttpServer, AnnouncedOversizedBodyIs413WithoutCallingHandler) {
  std::atomic<int> calls{0};
  server_options opts;
  opts.max_body_bytes = 1000;
  harness h(opts, echo_routes(&calls));
  client c(h.port());
  // Only the header: the server must not wait for 5000 bytes that it would refuse anyway.
  const auto res = c.roundtrip(
      "POST /echo/1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: big-1\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(res.result_int(), 413U);
  EXPECT_EQ(res["X-Request-Id"], "big-1");
  EXPECT_NE(res.body().find(R"("code":"payload_too_large")"), std::string::npos);
  EXPECT_EQ(res[bhttp::field::connection], "close");
  EXPECT_TRUE(is_closed(c.read_until_closed()));
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, SentOversizedBodyIs413WithoutCallingHandler) {
  std::atomic<int> calls{0};
  server_options opts;
  opts.max_body_bytes = 1000;
  harness h(opts, echo_routes(&calls));
  {
    client c(h.port());
    const auto res = c.roundtrip(post("/echo/1", std::string(2000, 'x')));
    EXPECT_EQ(res.result_int(), 413U);
    EXPECT_TRUE(is_closed(c.read_until_closed()));
  }
  {
    // Chunked: the size is only known while reading.
    client c(h.port());
    const std::string chunk = "258\r\n" + std::string(600, 'y') + "\r\n";
    const auto res = c.roundtrip("POST /echo/1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                 chunk + chunk + chunk + "0\r\n\r\n");
    EXPECT_EQ(res.result_int(), 413U);
    EXPECT_NE(res.body().find("payload_too_large"), std::string::npos);
    EXPECT_TRUE(is_closed(c.read_until_closed()));
  }
  {
    client c(h.port());  // a body at the limit is fine
    EXPECT_EQ(c.roundtrip(post("/echo/1", std::string(1000, 'z'))).result_int(), 200U);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, OversizedHeaderIs431ThenClose) {
  server_options opts;
  opts.max_header_bytes = 1024;
  harness h(opts, echo_routes());
  client c(h.port());
  const auto res = c.roundtrip(get("/echo/1", "X-Big: " + std::string(4096, 'h') + "\r\n"));
  EXPECT_EQ(res.result_int(), 431U);
  EXPECT_NE(res.body().find(R"("code":"headers_too_large")"), std::string::npos);
  EXPECT_TRUE(is_closed(c.read_until_closed()));
}

TEST(HttpServer, ExpectContinueGetsInterimResponse) {
  harness h({}, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.write("POST /echo/1 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  EXPECT_EQ(c.read().result_int(), 100U);
  ASSERT_FALSE(c.write("data"));
  const auto res = c.read();
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_NE(res.body().find(";body=data"), std::string::npos);
}

TEST(HttpServer, GarbageIs400ThenClose) {
  harness h({}, echo_routes());
  client c(h.port());
  const auto res = c.roundtrip(std::string("\x16\x03\x01 \x01\x02garbage\r\n\r\n", 18));
  EXPECT_EQ(res.result_int(), 400U);
  EXPECT_NE(res.body().find(R"("code":"bad_request")"), std::string::npos);
  EXPECT_TRUE(is_generated_id(res["X-Request-Id"]));
  EXPECT_TRUE(is_closed(c.read_until_closed()));
}

TEST(HttpServer, UnknownMethodIs501) {
  harness h({}, echo_routes());
  client c(h.port());
  const auto res = c.roundtrip("BREW /echo/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(res.result_int(), 501U);
}

TEST(HttpServer, RequestIdIsEchoedWhenSaneElseGenerated) {
  harness h({}, echo_routes());
  client c(h.port());
  auto res = c.roundtrip(get("/echo/1", "X-Request-Id: abc-123.X_y:z\r\n"));
  EXPECT_EQ(res["X-Request-Id"], "abc-123.X_y:z");
  EXPECT_NE(res.body().find(";rid=abc-123.X_y:z;"), std::string::npos);

  res = c.roundtrip(get("/echo/1", "X-Request-Id: has space<script>\r\n"));
  EXPECT_TRUE(is_generated_id(res["X-Request-Id"])) << res["X-Request-Id"];

  res = c.roundtrip(get("/echo/1", "X-Request-Id: " + std::string(129, 'a') + "\r\n"));
  EXPECT_TRUE(is_generated_id(res["X-Request-Id"]));

  const auto first = std::string(c.roundtrip(get("/echo/1"))["X-Request-Id"]);
  const auto second = std::string(c.roundtrip(get("/echo/1"))["X-Request-Id"]);
  EXPECT_TRUE(is_generated_id(first));
  EXPECT_NE(first, second);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  harness h({}, echo_routes());
  client c(h.port());
  for (int i = 0; i < 5; ++i) {
    const auto res = c.roundtrip(post("/echo/" + std::to_string(i), "body" + std::to_string(i)));
    EXPECT_EQ(res.result_int(), 200U);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_NE(res.body().find("id=" + std::to_string(i) + ";"), std::string::npos);
    EXPECT_NE(res.body().find(";body=body" + std::to_string(i)), std::string::npos);
  }
  const auto stats = h.srv().stats();
  EXPECT_EQ(stats.connections_accepted, 1U);
  EXPECT_EQ(stats.requests, 5U);
  EXPECT_EQ(stats.responses_2xx, 5U);
}

// Responses are written by hand: the status line follows the request's version, the
// Connection header appears only where it differs from that version's default, and a
// 204 has neither length nor body.
TEST(HttpServer, ResponsesFollowTheRequestsVersionAndConnection) {
  auto routes = echo_routes();
  routes->add(method::get, "/empty", [](std::shared_ptr<const request>, responder r) {
    response res;
    res.status = 204;
    res.headers.emplace_back("X-Extra", "kept");
    r.send(std::move(res));
  });
  harness h({}, routes);
  {
    client c(h.port());
    auto res = c.roundtrip(get("/echo/1"));
    EXPECT_EQ(res.version(), 11U);
    EXPECT_EQ(res.reason(), "OK");
    EXPECT_EQ(res[bhttp::field::server], "parley");
    EXPECT_EQ(res[bhttp::field::connection], "");
    EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
    EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
    auto empty = c.roundtrip(get("/empty"));
    EXPECT_EQ(empty.result_int(), 204U);
    EXPECT_EQ(empty["X-Extra"], "kept");
    EXPECT_EQ(empty[bhttp::field::content_length], "");
    EXPECT_TRUE(empty.body().empty());
    // Still in step: a body sent with the 204 would have broken this one.
    auto closing = c.roundtrip(get("/echo/2", "Connection: close\r\n"));
    EXPECT_EQ(closing.result_int(), 200U);
    EXPECT_EQ(closing[bhttp::field::connection], "close");
    EXPECT_TRUE(is_closed(c.read_until_closed()));
  }
  {
    client c(h.port());
    auto res = c.roundtrip("GET /echo/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(res.version(), 10U);
    EXPECT_EQ(res[bhttp::field::connection], "keep-alive");
    EXPECT_EQ(c.roundtrip(get("/echo/4")).result_int(), 200U);  // kept open
  }
  {
    client c(h.port());
    auto res = c.roundtrip("GET /echo/5 HTTP/1.0\r\n\r\n");
    EXPECT_EQ(res.version(), 10U);
    EXPECT_EQ(res.body().rfind("path=/echo/5", 0), 0U);
    EXPECT_TRUE(is_closed(c.read_until_closed()));
  }
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  auto routes = echo_routes();
  std::promise<responder> slow;
  routes->add(method::get, "/slow", [&slow](auto, responder r) { slow.set_value(std::move(r)); });
  harness h({}, routes);
  client c(h.port());
  // Three requests in one write; the first is answered last (from this thread).
  ASSERT_FALSE(c.write(get("/slow") + post("/echo/b", "B") + get("/echo/c")));
  auto pending = slow.get_future();
  ASSERT_EQ(pending.wait_for(k_deadline), std::future_status::ready);
  pending.get().send(response::json(200, "slow"));
  EXPECT_EQ(c.read().body(), "slow");
  EXPECT_NE(c.read().body().find("path=/echo/b;"), std::string::npos);
  EXPECT_NE(c.read().body().find("path=/echo/c;"), std::string::npos);
}

// A body that came with its header is parsed from the buffer at once; one that comes
// later, or in chunks, is read on. Either way the handler gets it whole.
TEST(HttpServer, BodiesAreReadWholeWithTheHeaderOrAfterIt) {
  harness h({}, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.connect_error());
  EXPECT_NE(c.roundtrip(post("/echo/1", "in one piece")).body().find(";body=in one piece"), std::string::npos);

  ASSERT_FALSE(c.write("POST /echo/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nfirst"));
  ASSERT_FALSE(c.write("-half"));
  EXPECT_NE(c.read().body().find(";body=first-half"), std::string::npos);

  const std::string head = "POST /echo/3 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_NE(c.roundtrip(head + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").body().find(";body=abcde"), std::string::npos);
  ASSERT_FALSE(c.write(head + "3\r\nab"));  // a chunk cut in the middle
  ASSERT_FALSE(c.write("c\r\n0\r\n\r\n"));
  EXPECT_NE(c.read().body().find(";body=abc"), std::string::npos);
}

TEST(HttpServer, HandlerMayAnswerLaterFromAnotherThread) {
  auto routes = std::make_shared<router>();
  std::promise<std::pair<std::shared_ptr<const request>, responder>> handed;
  routes->add(method::post, "/later", [&handed](std::shared_ptr<const request> req, responder r) {
    handed.set_value({std::move(req), std::move(r)});
  });
  harness h({}, routes);
  client c(h.port());
  ASSERT_FALSE(c.write(post("/later", R"({"n":1})")));

  std::thread worker([&handed] {
    auto [req, r] = handed.get_future().get();
    r.send(response::json(202, R"({"echo":)" + req->body + "}"));
    r.send(response::json(500, "ignored: the first send wins"));
  });
  const auto res = c.read();
  worker.join();
  EXPECT_EQ(res.result_int(), 202U);
  EXPECT_EQ(res.body(), R"({"echo":{"n":1}})");
  EXPECT_EQ(res["Content-Type"], "application/json");
}

TEST(HttpServer, HandlingTimeIsCountedFromTheRequestToItsAnswer) {
  // One request answered at once, one held by the test until at least 20 ms passed: both
  // are counted, and the held one lands in a bucket above 16 ms.
  auto routes = std::make_shared<router>();
  std::promise<responder> held;
  routes->add(method::get, "/quick", [](std::shared_ptr<const request>, responder r) { r.send(response::json(200, "{}")); });
  routes->add(method::get, "/held", [&held](std::shared_ptr<const request>, responder r) { held.set_value(std::move(r)); });
  harness h({}, routes);
  client c(h.port());
  ASSERT_FALSE(c.write(get("/quick")));
  EXPECT_EQ(c.read().result_int(), 200U);
  ASSERT_FALSE(c.write(get("/held")));
  auto r = held.get_future().get();
  const auto handed_at = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(handed_at + std::chrono::milliseconds(20));  // the delay under test, not a sync
  r.send(response::json(200, "{}"));
  EXPECT_EQ(c.read().result_int(), 200U);

  const auto stats = h.srv().stats();
  std::uint64_t total = 0, above_16ms = 0;
  for (std::size_t i = 0; i < stats.handling_counts.size(); ++i) {
    total += stats.handling_counts[i];
    if (i > 0 && parley::engine::http::handling_bucket_bound(i - 1) >= 0.016) above_16ms += stats.handling_counts[i];
  }
  EXPECT_EQ(total, 2U);
  EXPECT_GE(above_16ms, 1U);  // the quick one is normally below, but a loaded machine may delay it
  EXPECT_GE(stats.handling_seconds_sum, 0.020);
}

TEST(HttpServer, DroppedResponderIs500) {
  auto routes = std::make_shared<router>();
  routes->add(method::get, "/drop", [](auto, responder) {});
  harness h({}, routes);
  client c(h.port());
  const auto res = c.roundtrip(get("/drop"));
  EXPECT_EQ(res.result_int(), 500U);
  EXPECT_EQ(res.body(), R"({"error":{"code":"internal","message":"handler dropped the request"}})");
  EXPECT_EQ(c.roundtrip(get("/drop")).result_int(), 500U);  // connection still usable
  EXPECT_EQ(h.srv().stats().responses_5xx, 2U);
}

TEST(HttpServer, ThrowingHandlerIs500) {
  auto routes = std::make_shared<router>();
  routes->add(method::get, "/throw", [](auto, responder) { throw std::runtime_error("boom"); });
  harness h({}, routes);
  client c(h.port());
  const auto res = c.roundtrip(get("/throw"));
  EXPECT_EQ(res.result_int(), 500U);
  EXPECT_NE(res.body().find(R"("code":"internal")"), std::string::npos);
}

TEST(HttpServer, SlowHandlerGets503AndItsLateAnswerIsIgnored) {
  auto routes = echo_routes();
  std::promise<responder> stuck;
  routes->add(method::get, "/stuck", [&stuck](auto, responder r) { stuck.set_value(std::move(r)); });
  server_options opts;
  opts.handler_timeout = 200ms;
  harness h(opts, routes);
  client c(h.port());
  const auto res = c.roundtrip(get("/stuck"));
  EXPECT_EQ(res.result_int(), 503U);
  EXPECT_EQ(res["Retry-After"], "1");
  EXPECT_NE(res.body().find(R"("code":"unavailable")"), std::string::npos);

  auto late = stuck.get_future();
  ASSERT_EQ(late.wait_for(k_deadline), std::future_status::ready);
  late.get().send(response::json(200, "too late"));
  // The same connection carries on; the late answer never shows up in it.
  const auto next = c.roundtrip(get("/echo/after"));
  EXPECT_EQ(next.result_int(), 200U);
  EXPECT_NE(next.body().find("path=/echo/after;"), std::string::npos);
  EXPECT_GE(h.srv().stats().timeouts, 1U);
}

TEST(HttpServer, HeaderTimeoutClosesSlowloris) {
  server_options opts;
  opts.header_timeout = 200ms;
  harness h(opts, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.write("GET /echo/1 HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  EXPECT_TRUE(is_closed(c.read_until_closed()));

  client silent(h.port());  // connects and never sends a byte
  EXPECT_TRUE(is_closed(silent.read_until_closed()));
  ASSERT_TRUE(h.drain_and_wait());
  EXPECT_EQ(h.srv().stats().timeouts, 2U);
}

TEST(HttpServer, BodyTimeoutClosesAStalledUpload) {
  server_options opts;
  opts.body_timeout = 200ms;
  harness h(opts, echo_routes());
  client c(h.port());
  ASSERT_FALSE(c.write("POST /echo/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly-a-bit"));
  EXPECT_TRUE(is_closed(c.read_until_closed()));
  ASSERT_TRUE(h.drain_and_wait());
  EXPECT_EQ(h.srv().stats().timeouts, 1U);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  server_options opts;
  opts.idle_timeout = 200ms;
  harness h(opts, echo_routes());
  client c(h.port());
  EXPECT_EQ(c.roundtrip(get("/echo/1")).result_int(), 200U);
  EXPECT_TRUE(is_closed(c.read_until_closed()));
}

TEST(HttpServer, ConnectionsOverTheLimitAreClosed) {
  server_options opts;
  opts.max_connections = 2;
  harness h(opts, echo_routes());
  client a(h.port());
  client b(h.port());
  EXPECT_EQ(a.roundtrip(get("/echo/a")).result_int(), 200U);
  EXPECT_EQ(b.roundtrip(get("/echo/b")).result_int(), 200U);
  client third(h.port());  // the kernel completes the handshake; the server closes it
  EXPECT_TRUE(is_closed(third.read_until_closed()));
  const auto stats = h.srv().stats();
  EXPECT_EQ(stats.connections_rejected, 1U);
  EXPECT_EQ(stats.connections_accepted, 2U);
  EXPECT_EQ(stats.connections_active, 2U);
  EXPECT_EQ(a.roundtrip(get("/echo/a2")).result_int(), 200U);  // the admitted ones still work
}

TEST(HttpServer, StopAcceptingAndDrainFinishInFlightRequest) {
  auto routes = echo_routes();
  std::promise<responder> in_flight;
  routes->add(method::post, "/slow", [&in_flight](auto, responder r) { in_flight.set_value(std::move(r)); });
  harness h({}, routes);

  client idle(h.port());
  EXPECT_EQ(idle.roundtrip(get("/echo/1")).result_int(), 200U);
  auto busy = std::make_unique<client>(h.port());
  ASSERT_FALSE(busy->write(post("/slow", "payload")));
  auto pending = in_flight.get_future();
  ASSERT_EQ(pending.wait_for(k_deadline), std::future_status::ready);
  auto r = pending.get();

  h.srv().stop_accepting();
  EXPECT_TRUE(is_closed(idle.read_until_closed()));  // idle keep-alive: closed at once

  std::promise<void> drained;
  h.srv().drain([&drained] { drained.set_value(); });
  auto drained_future = drained.get_future();
  // The busy connection is still open, so drain cannot have finished.
  EXPECT_EQ(drained_future.wait_for(0s), std::future_status::timeout);

  r.send(response::json(200, "finished"));
  const auto res = busy->read();
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_EQ(res.body(), "finished");
  EXPECT_EQ(res[bhttp::field::connection], "close");
  EXPECT_TRUE(is_closed(busy->read_until_closed()));
  busy.reset();  // a polite client closes too, so the server need not linger
  EXPECT_EQ(drained_future.wait_for(k_deadline), std::future_status::ready);
  EXPECT_EQ(h.srv().stats().connections_active, 0U);

  client late(h.port());  // the acceptor is closed once drain reported done
  EXPECT_TRUE(late.connect_error());
}

TEST(HttpServer, DrainWithNothingOpenCompletesPromptly) {
  harness h({}, echo_routes());
  std::promise<void> drained;
  h.srv().drain([&drained] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_for(k_deadline), std::future_status::ready);
}

TEST(HttpServer, ListenReportsErrorsAsValues) {
  asio::io_context io;
  server first(io, {}, echo_routes());
  auto bound = first.listen();
  ASSERT_TRUE(bound.ok());
  const auto port = static_cast<std::uint16_t>(std::stoi(bound->substr(bound->rfind(':') + 1)));
  EXPECT_NE(port, 0U);

  server_options taken;
  taken.port = port;
  server second(io, taken, echo_routes());
  const auto busy = second.listen();
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.code(), parley::errc::io_error);

  server_options bad;
  bad.host = "not-an-address";
  server third(io, bad, echo_routes());
  EXPECT_FALSE(third.listen().ok());

  server_options v6;
  v6.host = "::1";
  server fourth(io, v6, echo_routes());
  if (const auto r = fourth.listen(); r.ok()) {  // a host without IPv6 skips this
    EXPECT_EQ(r->rfind("[::1]:", 0), 0U);
  }

  server_options local;
  local.host = "localhost";
  server fifth(io, local, echo_routes());
  const auto r = fifth.listen();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rfind("127.0.0.1:", 0), 0U);
}

TEST(HttpServer, ServesHttpsWithTls) {
  const auto material = make_self_signed();
  auto server_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  server_tls->use_certificate_chain(asio::buffer(material.cert_pem));
  server_tls->use_private_key(asio::buffer(material.key_pem), asio::ssl::context::pem);
  server_options opts;
  opts.tls = server_tls;
  harness h(opts, echo_routes());

  asio::ssl::context client_tls(asio::ssl::context::tls_client);
  client_tls.add_certificate_authority(asio::buffer(material.cert_pem));
  client_tls.set_verify_mode(asio::ssl::verify_peer);
  {
    tls_client c(h.port(), &client_tls);
    ASSERT_FALSE(c.connect_error()) << c.connect_error().message();
    for (int i = 0; i < 2; ++i) {  // keep-alive over TLS too
      const auto res = c.roundtrip(post("/echo/tls", "secret"));
      EXPECT_EQ(res.result_int(), 200U);
      EXPECT_NE(res.body().find(";body=secret"), std::string::npos);
    }
  }
  {
    client plain(h.port());  // plain HTTP on the HTTPS port gets no HTTP answer
    ASSERT_FALSE(plain.write(get("/echo/1")));
    error_code ec;
    plain.read(ec);
    EXPECT_TRUE(ec);
  }
}

}  // namespace
