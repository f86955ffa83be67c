#pragma once
/// The outbound HTTP(S) client the delivery actor sends provider requests with
/// (`parley::http_call`, built by engine/providers). Boost.Beast over its own I/O
/// threads: HTTP/1.1 keep-alive with a bounded idle-connection pool per origin, TLS with
/// peer and host-name verification, whole-request deadlines, bounded response sizes.
///
/// This header is light on purpose (no Asio/Beast): the implementation lives in
/// client.cpp behind a pimpl.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "parley/outbound.hpp"
#include "parley/result.hpp"

namespace parley::engine::http {

/// Limits and timeouts of one client. Defaults suit calls to the providers' send APIs.
struct client_options {
  std::size_t threads = 1;                          ///< I/O threads owned by the client
  std::chrono::milliseconds connect_timeout{5000};  ///< resolve + TCP connect + TLS handshake
  /// The whole call, from `send()` to the last byte of the response, including any wait
  /// for a free connection and the one transparent retry on a fresh connection.
  std::chrono::milliseconds request_timeout{30000};
  std::size_t max_connections_per_host = 16;      ///< open connections per scheme+host+port; more calls queue
  std::size_t max_response_bytes = 1 << 20;       ///< larger response bodies are an error
  std::chrono::milliseconds idle_timeout{30000};  ///< an unused pooled connection is closed after it
  std::string ca_file;      ///< extra trusted CA (PEM file), e.g. for tests; the system store is always trusted
  bool verify_peer = true;  ///< off only for tests against self-signed servers
};

/// What the server answered (any status: interpreting it is the caller's job).
struct client_response {
  unsigned status = 0;
  std::string body;
  std::optional<std::string> retry_after;  ///< the Retry-After header, when present
};

/// Counters a client keeps; read with `client::stats()` (relaxed, for metrics and tests).
struct client_stats {
  std::uint64_t requests = 0;            ///< calls handed to `send`
  std::uint64_t connections_opened = 0;  ///< TCP connections established
  std::uint64_t connections_reused = 0;  ///< calls that went out on a pooled keep-alive connection
  std::uint64_t retried_on_fresh = 0;    ///< calls retried once because a pooled connection had gone stale
  std::uint64_t errors = 0;              ///< calls completed with an error
};

/// An HTTP/1.1 client with its own I/O threads.
///
/// Each origin (scheme, host, port) has a pool of at most `max_connections_per_host`
/// connections: a call takes an idle keep-alive connection, else opens a new one while
/// under the bound, else waits in that origin's FIFO queue. A pooled connection that
/// turns out to be closed by the server (the write fails, or the read fails before any
/// byte of the response arrived) is replaced and the call retried once on a fresh
/// connection. Requests get `Host`, `User-Agent: parley` (unless the call sets them) and
/// `Content-Length`.
///
/// Errors (as `result`, never exceptions): invalid_argument for a bad URL, method or
/// header; unauthorized when TLS certificate verification fails; io_error for resolve,
/// connect, TLS, read/write failures, timeouts and over-large responses; shutting_down for
/// calls still pending when the client is destroyed. Messages name the host and port but
/// never the path (it may hold a bot token), headers or bodies.
///
/// Thread-safety: `send` and `stats` may be called from any thread, including from a
/// `done` callback. Destroy the client from a thread that is not one of its own (never
/// inside a `done`).
class client {
 public:
  explicit client(client_options options = {});
  /// Stops: calls in flight or queued complete with an error (shutting_down), then the
  /// I/O threads are joined. Never hangs on a silent server.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Sends `call` (absolute http:// or https:// URL). `done` runs exactly once, on one of
  /// the client's threads, with the response or an error (connect refused, TLS or
  /// verification failure, timeout, bad URL, response too large). Thread-safe.
  void send(parley::http_call call, std::function<void(result<client_response>)> done);

  [[nodiscard]] client_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace parley::engine::http
