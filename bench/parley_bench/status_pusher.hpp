#pragma once
/// The simulator's outgoing side: delivers status webhooks (WhatsApp sent/delivered/read,
/// Messenger/Instagram delivery/read, Postmark Delivery) to the receivers that asked for
/// them, the way a provider does.
///
/// Lifecycle: built before the I/O threads start, on the simulator's `io_context`; `push`
/// may be called from any thread. Each destination (host:port) has a small pool of
/// keep-alive connections and its own strand. A job's webhooks go out strictly one after
/// another (the next only once the previous got a 2xx or was given up), so a receiver
/// sees `sent` before `delivered` before `read`; different jobs run in parallel over the
/// pool. A webhook that fails (connect error, timeout, non-2xx) is retried a few times
/// with doubling backoff, then dropped and counted as failed. Jobs beyond the queue bound
/// are dropped and counted. Nothing here blocks an I/O thread except the one-time name
/// resolution of a new destination.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "payloads.hpp"

namespace boost::asio {
class io_context;
}

namespace parley::bench::sim {

/// "http://[user:password@]HOST[:PORT][/path]" split up. `path` keeps any query string;
/// `userinfo` ("user:password", %-escapes decoded) is what Postmark puts in its webhook URLs.
struct webhook_url {
  std::string host;
  std::string port = "80";
  std::string path = "/";
  std::string userinfo;
};

/// Parses a status webhook URL (plain http only); nullopt when it is not one.
[[nodiscard]] std::optional<webhook_url> parse_webhook_url(std::string_view text);

/// One webhook POST: path on the destination, extra headers (signature / auth), JSON body.
struct webhook_request {
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The webhooks one accepted send causes, in order. Each step builds its request when it
/// is due, so timestamps and watermarks are those of the moment it is sent.
struct status_job {
  provider kind = provider::whatsapp;  ///< for the per-provider counters
  webhook_url url;
  std::chrono::microseconds delay{0};  ///< waited before each step
  std::vector<std::function<webhook_request()>> steps;
};

/// Tuning of the delivery side; the defaults keep up with several thousand sends/s on
/// loopback.
struct pusher_options {
  std::size_t connections_per_destination = 16;
  std::size_t max_queued_jobs = 100'000;   ///< jobs in flight or waiting; more are dropped
  int retries = 3;                         ///< after the first attempt
  std::chrono::milliseconds backoff{100};  ///< before the first retry, doubled each time
};

/// Webhook counters for one provider.
struct delivery_counters {
  std::uint64_t sent = 0;     ///< answered 2xx
  std::uint64_t failed = 0;   ///< given up after the retries (or unresolvable destination)
  std::uint64_t dropped = 0;  ///< never attempted: the queue was full
  std::uint64_t retried = 0;  ///< attempts repeated after a failure
};

class status_pusher {
 public:
  status_pusher(boost::asio::io_context& io, pusher_options options);
  ~status_pusher();
  status_pusher(const status_pusher&) = delete;
  status_pusher& operator=(const status_pusher&) = delete;

  /// Queues a job (thread-safe, never blocks on the network).
  void push(status_job job);

  /// A snapshot of one provider's counters (thread-safe).
  [[nodiscard]] delivery_counters counters(provider p) const;
  void reset_counters();

  struct core;

 private:
  std::shared_ptr<core> core_;
};

}  // namespace parley::bench::sim
