#pragma once
/// `parley-bench simulate`: a provider simulator. One HTTP/1.1 listener (keep-alive,
/// `threads` I/O threads) speaks the send APIs of WhatsApp Cloud API, Messenger/Instagram,
/// Telegram Bot API and Postmark (see sim_providers.hpp), answers after an optional delay
/// with success, throttles or errors as configured, and pushes the status webhooks a real
/// provider would (status_pusher.hpp). The same listener serves the control API
/// (`/_sim/config`, `/_sim/reset`, `/_sim/sends`, `/_sim/stats`, `/_sim/routes`) that
/// tests and benchmarks use to steer it (sim_state.hpp).
///
/// Prints `parley-bench simulate listening on HOST:PORT` on stdout once listening;
/// SIGINT/SIGTERM stop it with exit status 0.
#include <cstddef>
#include <cstdint>
#include <string>

namespace parley::bench {

struct simulate_options {
  std::string listen = "127.0.0.1:8090";  ///< HOST:PORT; port 0 picks a free one
  std::size_t threads = 2;                ///< I/O threads
  double latency_ms = 0;                  ///< added before each provider answer
  double error_rate = 0;                  ///< share answered with a transient 500/503
  double throttle_rate = 0;               ///< share answered 429 (throttled)
  double max_rate = 0;                    ///< per sender account per second; 0 = unlimited
  std::string status_webhooks;            ///< default status webhook URL (every account)
  std::string status_secret;              ///< its Meta app secret or Postmark "user:password"
  double status_delay_ms = 0;             ///< before each status webhook
  std::size_t status_connections = 16;    ///< keep-alive connections per webhook destination
  std::size_t status_queue = 100'000;     ///< status jobs waiting at most; more are dropped
  int status_retries = 3;                 ///< retries of a failed status webhook
  std::size_t record_limit = 100'000;     ///< sends kept for /_sim/sends (oldest dropped); 0 = all
  std::uint64_t seed = 1;                 ///< for the injected throttles and errors
  bool quiet = false;                     ///< no progress line on stderr
};

/// Runs until SIGINT/SIGTERM; returns the exit status (0 stopped cleanly, 1 cannot listen,
/// 2 bad options).
int run_simulate(const simulate_options& options);

}  // namespace parley::bench
