#pragma once
/// The simulator's shared state: runtime settings, per-recipient outcome rules, per-account
/// rate limits, the status-webhook route table, the record of every send and the counters;
/// and the control API (`/_sim/*`, implemented in sim_control.cpp) that reads and changes them.
///
/// One instance per simulator, shared by every I/O thread; every member function is
/// thread-safe (one mutex, held only for in-memory bookkeeping, never across I/O).
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim_providers.hpp"
#include "status_pusher.hpp"

namespace parley::bench::sim {

/// What `POST /_sim/config` can change; the flags give the values `reset` returns to.
struct sim_settings {
  double latency_ms = 0;       ///< added before every provider answer
  double error_rate = 0;       ///< share answered 500/503
  double throttle_rate = 0;    ///< share answered 429
  double max_rate = 0;         ///< per sender account, requests/s (0 = unlimited)
  double status_delay_ms = 0;  ///< before each status webhook
  bool down = false;           ///< close provider connections without answering
};

/// A per-recipient outcome (`rules` of `POST /_sim/config`). A 2xx `http_status` with a
/// `code` accepts the send and fails it later (WhatsApp `failed` status, Postmark Bounce).
struct outcome_rule {
  std::string recipient;
  std::string provider;  ///< empty: any provider
  int http_status = 400;
  std::int64_t code = 0;  ///< 0: the provider's usual code for the status
  std::string message;    ///< empty: the usual text for the code
  std::string details;
  int retry_after = 0;     ///< seconds
  std::int64_t times = 0;  ///< applies this many more times; 0 = always
};

/// One provider request as `GET /_sim/sends` lists it.
struct send_record {
  provider kind = provider::whatsapp;
  std::string account, recipient, type, body, provider_message_id;
  std::int64_t received_at_us = 0;  ///< unix microseconds
  int status = 0;                   ///< HTTP status answered
};

/// The verdict on an admitted request plus what the server needs to carry it out.
struct admission {
  decision verdict;
  std::optional<status_route> route;  ///< set when status webhooks are due
  double latency_ms = 0;
  double status_delay_ms = 0;
};

class sim_state {
 public:
  /// `defaults` are the flags; `default_route` (from `--status-webhooks`) serves every
  /// account without a route of its own; at most `record_limit` sends are kept (oldest
  /// dropped first; 0 = unlimited).
  sim_state(const sim_settings& defaults, std::uint64_t seed, std::size_t record_limit,
            std::optional<status_route> default_route, status_pusher& pusher);

  /// Decides how to answer `send` (refusal, rule, rate limit, injected throttle/error or
  /// success with fresh ids), counts and records it. May resolve `send.kind` (Messenger
  /// vs Instagram) and `send.account` (Graph `me`) through the route table.
  [[nodiscard]] admission admit(parsed_send& send, std::string_view raw_body);
  /// The URL statuses for `account` go to now (routes may change while an answer waits
  /// for its latency); nullopt when it has no route of its own.
  [[nodiscard]] std::optional<webhook_url> route_url_now(provider kind, const std::string& account) const;

  /// True while the simulated provider is "down".
  [[nodiscard]] bool down() const noexcept { return down_.load(std::memory_order_relaxed); }
  /// Counts a connection or request dropped because of `down`.
  void note_down_close() noexcept { ++down_closed_; }

  /// Serves `/_sim/*`; nullopt when `target` is not under `/_sim/`.
  [[nodiscard]] std::optional<answer> control(std::string_view method, std::string_view target, std::string_view body);

  /// Totals for the progress line: requests, accepted, throttled, errors injected.
  struct totals {
    std::uint64_t requests = 0, accepted = 0, throttled = 0, errors = 0;
  };
  [[nodiscard]] totals snapshot() const;

 private:
  struct counters {
    std::uint64_t requests = 0, accepted = 0, refused = 0, rule_matched = 0, throttled = 0, errors_injected = 0,
                  unrouted = 0;
  };
  struct bucket {
    double tokens = 0;
    std::int64_t last_us = 0;
  };

  std::optional<outcome_rule> match_rule(const parsed_send& send);                          // mutex held
  bool take_token(const parsed_send& send, std::int64_t now_us);                            // mutex held
  std::optional<status_route> find_route(provider kind, const std::string& account) const;  // mutex held
  void resolve_graph_account(parsed_send& send) const;                                      // mutex held
  std::string next_id(provider kind);                                                       // mutex held

  answer get_config() const;  // mutex held
  answer post_config(std::string_view body);
  answer post_route(std::string_view body);
  answer get_routes() const;
  answer get_sends(std::string_view query) const;
  answer get_stats() const;
  void reset();

  const sim_settings defaults_;
  const std::uint64_t seed_;
  const std::size_t record_limit_;
  const std::optional<status_route> default_route_;
  status_pusher& pusher_;
  const std::uint64_t id_nonce_;
  std::atomic<bool> down_{false};
  std::atomic<std::uint64_t> down_closed_{0};

  mutable std::mutex mutex_;
  sim_settings settings_;
  std::vector<outcome_rule> rules_;
  std::map<std::pair<provider, std::string>, status_route> routes_;
  std::unordered_map<std::string, bucket> buckets_;             ///< provider/account
  std::unordered_map<std::string, std::int64_t> telegram_ids_;  ///< bot token/chat → last message_id
  std::deque<send_record> records_;
  std::uint64_t first_record_index_ = 0;  ///< index of records_.front()
  std::uint64_t id_counter_ = 0;
  std::mt19937_64 rng_;
  counters by_provider_[5];
};

}  // namespace parley::bench::sim
