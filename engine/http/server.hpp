#pragma once
/// The HTTP edge: one Boost.Beast server component used by both listeners (public and
/// admin). It owns accepting, parsing, keep-alive, timeouts, limits and TLS; handlers
/// only see `request` and answer through a `responder`, possibly later and from any
/// thread (after an actor replied). No handler may block an I/O thread.
///
/// This header is light on purpose (no Asio/Beast): the implementation lives in
/// server.cpp behind a pimpl.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/result.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace parley::engine::http {

/// An HTTP method the router knows. Anything else is answered 405 (or 501 if unknown).
enum class method : std::uint8_t { get, head, post, put, patch, del, other };

/// A parsed, complete request. Immutable once handed to a handler; shared so a handler
/// can keep the body alive while an actor works on it (bodies travel once).
struct request {
  method verb = method::other;
  std::string target;   ///< raw request target, e.g. "/v1/events?after=3"
  std::string path;     ///< percent-decoded path part of `target`
  std::string query;    ///< raw query string after '?', possibly empty
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lowercased
  std::string body;     ///< the body bytes exactly as received
  std::string request_id;  ///< from X-Request-Id when the client sent a sane one, else generated
  std::string remote_address;
  /// Route parameters captured by the router: "{channel_id}" -> value, in pattern order.
  std::vector<std::pair<std::string, std::string>> params;

  /// First header with this (case-insensitive) name, or nullopt.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  /// A route parameter by name ("channel_id"), or empty.
  [[nodiscard]] std::string_view param(std::string_view name) const;
  /// The first value of a query parameter, percent-decoded, or nullopt.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

/// A body produced piece by piece (exports, NDJSON streams). The server asks for the
/// next piece only once the previous one is written to the socket, so memory stays
/// bounded by one piece whatever the body's size; the response goes out with
/// `Transfer-Encoding: chunked`.
class body_stream {
 public:
  virtual ~body_stream() = default;
  /// Produces the next piece and calls `deliver` exactly once, from any thread: a
  /// non-empty piece, an empty string at the end, or an error, which aborts the
  /// connection (the client sees a body without its final chunk, never a short one
  /// that looks whole).
  virtual void next(std::function<void(result<std::string>)> deliver) = 0;
};

/// A response a handler builds. `X-Request-Id`, `Content-Length`, `Connection` and
/// `Date`-less defaults are added by the server.
struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  /// Set: the body is streamed from here (chunked) and `body` is ignored.
  std::shared_ptr<body_stream> stream;

  /// `{"error": {"code": code, "message": message}}` with the given status.
  static response error(unsigned status, std::string_view code, std::string_view message);
  /// A JSON body (already serialized) with the given status.
  static response json(unsigned status, std::string body);
};

/// One-shot answer channel for a request. Copyable and thread-safe: the first `send`
/// wins, later ones are ignored. If every copy is destroyed without a send, the server
/// answers 500 so a client never hangs on a dropped request.
class responder {
 public:
  class sink;  ///< implementation detail (server.cpp)
  responder() = default;
  explicit responder(std::shared_ptr<sink> s) : sink_(std::move(s)) {}
  /// Sends the response on the connection's strand. Safe from any thread.
  void send(response r) const;

 private:
  std::shared_ptr<sink> sink_;
};

using handler = std::function<void(std::shared_ptr<const request>, responder)>;

/// Routing table: exact path segments and `{name}` parameters, e.g.
/// "/webhooks/whatsapp/{channel_id}". A known path with no handler for the method is 405
/// (with `Allow`); an unknown path is 404 `not_found`.
class router {
 public:
  static constexpr std::size_t max_route_params = 8;
  /// Throws std::invalid_argument for a pattern with more than max_route_params parameters.
  void add(method verb, std::string pattern, handler h);

  struct match_result {
    const handler* target = nullptr;  ///< null: see `status`
    unsigned status = 404;            ///< 404 or 405 when target is null
    std::string allow;                ///< for 405: the methods this path accepts
    std::vector<std::pair<std::string, std::string>> params;
  };
  [[nodiscard]] match_result match(method verb, std::string_view path) const;

 private:
  struct route {
    method verb;
    std::vector<std::string> segments;  ///< "{x}" marks a parameter
    handler h;
  };
  std::vector<route> routes_;
};

/// Limits and timeouts of one listener. Defaults suit a public webhook endpoint.
struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                 ///< 0: the OS picks a free port
  std::size_t max_body_bytes = 1 << 20;   ///< larger bodies: 413 payload_too_large
  std::size_t max_header_bytes = 16 << 10;
  std::size_t max_connections = 10'000;   ///< further connections are closed at accept
  std::chrono::milliseconds header_timeout{10'000};  ///< time to receive a full header
  std::chrono::milliseconds body_timeout{30'000};    ///< time to receive the body
  std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive idle before close
  std::chrono::milliseconds handler_timeout{30'000}; ///< no answer by then: 503
  std::shared_ptr<boost::asio::ssl::context> tls;    ///< set: serve HTTPS only
  std::string name = "http";                         ///< listener name for logs/metrics
};

/// Counters a listener keeps; read with `server::stats()` (relaxed, for metrics).
struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  ///< over max_connections
  std::uint64_t connections_active = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses_2xx = 0;
  std::uint64_t responses_4xx = 0;
  std::uint64_t responses_5xx = 0;
  std::uint64_t timeouts = 0;
  /// Handling time of answered requests (whole request read -> response started):
  /// counts per bucket, bucket i holding times <= handling_bucket_bound(i); the last
  /// bucket is everything above. The sum is in seconds.
  static constexpr std::size_t handling_buckets = 17;
  std::array<std::uint64_t, handling_buckets> handling_counts{};
  double handling_seconds_sum = 0;
};

/// Upper bound of handling-time bucket i (250 µs doubling: 0.25 ms .. 8.2 s), seconds.
constexpr double handling_bucket_bound(std::size_t i) noexcept { return 0.00025 * static_cast<double>(1u << i); }

/// A listening HTTP(S) server on an io_context whose threads the caller runs.
/// Lifecycle: construct, `listen()`, run the io_context, `stop_accepting()`, then
/// `drain()` which calls back once every in-flight request is answered and every
/// connection is closed. Destroy only after the io_context threads have stopped.
class server {
 public:
  server(boost::asio::io_context& io, server_options options, std::shared_ptr<const router> routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts accepting. Returns the bound "host:port" (actual port).
  [[nodiscard]] result<std::string> listen();
  /// Stops accepting new connections; idle keep-alive connections are closed.
  void stop_accepting();
  /// Calls `done` (on an I/O thread) once no request is in flight and no connection is
  /// open. Connections finish their current request and then close.
  void drain(std::function<void()> done);
  [[nodiscard]] server_stats stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace parley::engine::http
