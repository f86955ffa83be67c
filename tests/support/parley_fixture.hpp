#pragma once
/// End-to-end fixture: the real parleyd on port 0 in a temp data dir, talked to over real
/// sockets with the blocking `http_request` client of child_process.hpp.
///
/// Lifecycle: `SetUp` starts parleyd with `options()` (override in a derived fixture to
/// add flags or env) and waits for its ready line; `TearDown` sends SIGTERM and expects
/// exit 0 (unless the test killed it). `restart()` stops it the same way and starts it
/// again on the same data dir (the ports change: always go through `public_addr()` /
/// `admin_addr()`). `kill9()` simulates a crash. Runs on the test's thread; the HTTP
/// helpers are thread-safe (each call opens its own connection).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace parley::testing {

/// The admin token every fixture-started parleyd uses (PARLEY_ADMIN_TOKEN).
inline constexpr const char* fixture_admin_token = "e2e-admin-token-0123456789abcdef0123";

/// Generous: the suite must pass on a loaded 2-core machine.
inline constexpr int fixture_start_timeout_ms = 60'000;

/// An HTTP answer with its body parsed as JSON (null when the body is not JSON).
struct json_reply {
  int status = 0;  ///< 0 when no answer came (connection refused/reset)
  std::string headers;
  std::string body;
  boost::json::value json;
};

/// Flags and environment for one parleyd start.
struct parleyd_options {
  std::vector<std::string> extra_args;
  std::vector<std::string> extra_env;  ///< "K=V"
};

class parley_fixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Options for every start of this fixture (SetUp and restart()).
  virtual parleyd_options options() const { return {}; }

  // ---- process -------------------------------------------------------------------------
  /// SIGTERM, expect exit 0, start again on the same data dir and wait for the ready line.
  void restart();
  /// SIGKILL without waiting for anything to drain (a crash); then `start()` brings it back.
  void kill9();
  /// Starts parleyd (after kill9() or a stop) and waits for the ready line.
  void start();
  /// SIGTERM and expect exit 0.
  void stop();
  [[nodiscard]] bool running() const { return process_ != nullptr; }

  [[nodiscard]] const std::string& public_addr() const { return ready_.public_addr; }
  [[nodiscard]] const std::string& admin_addr() const { return ready_.admin_addr; }
  [[nodiscard]] std::string data_dir() const { return dir_.sub("data"); }
  /// The stderr log of the current (or last) start.
  [[nodiscard]] std::string log_path() const { return dir_.sub("parleyd-" + std::to_string(starts_) + ".log"); }
  [[nodiscard]] std::string log() const { return read_file(log_path()); }

  // ---- HTTP ----------------------------------------------------------------------------
  /// An admin-listener request with the fixture's admin token.
  json_reply admin(const std::string& method, const std::string& path, const std::string& body = {}) const;
  /// An admin-listener request with arbitrary headers (e.g. no token at all).
  json_reply admin_raw(const std::string& method, const std::string& path, const std::string& body,
                       const std::vector<std::string>& headers) const;
  /// Creates a tenant (201 expected) and returns its API key (scopes send + read).
  std::string create_tenant(const std::string& id);
  /// Creates a channel from a JSON body (201 expected) and returns its id.
  std::string create_channel(const std::string& tenant, const std::string& json_body);
  /// Creates an API key with `scopes` (201 expected); returns {key id, api key}.
  std::pair<std::string, std::string> create_api_key(const std::string& tenant, const std::vector<std::string>& scopes);
  /// GET on the public listener with `Authorization: Bearer <api_key>` (none if empty).
  json_reply tenant_get(const std::string& api_key, const std::string& path) const;
  /// Any request on the public listener (webhooks).
  json_reply public_request(const std::string& method, const std::string& path, const std::string& body = {},
                            const std::vector<std::string>& headers = {}) const;

  // ---- tenant API conveniences (each asserts a 200) -----------------------------------
  /// Every conversation of the tenant, paging through next_cursor.
  std::vector<boost::json::value> all_conversations(const std::string& api_key) const;
  /// Every message of a conversation, newest first, paging through next_before.
  std::vector<boost::json::value> all_messages(const std::string& api_key, const std::string& conversation_id) const;
  /// Every retained event after `after` ("" = from the oldest), paging through next_cursor.
  std::vector<boost::json::value> all_events(const std::string& api_key, const std::string& after = {}) const;
  /// The feed's current end: the cursor to long-poll after.
  std::string events_cursor(const std::string& api_key) const;

 private:
  temp_dir dir_;
  std::unique_ptr<child_process> process_;
  ready_line ready_;
  int starts_ = 0;
};

// ---- JSON helpers ------------------------------------------------------------------------

/// An http_request answer as a json_reply (status 0 when none came).
json_reply to_json_reply(const std::optional<http_reply>& r);
/// Parses `text`; a null value when it is not JSON.
boost::json::value parse_json(const std::string& text);
/// `o[key]` as a string; "" when absent or not a string.
std::string str(const boost::json::value& v, std::string_view key);
/// `o[key]` as an int64; -1 when absent or not an integer.
std::int64_t num(const boost::json::value& v, std::string_view key);
/// `o[key]` or a null value. The result refers into `v`: temporaries are refused at
/// compile time (a json::object argument would convert into one and dangle).
const boost::json::value& member(const boost::json::value& v, std::string_view key);
const boost::json::value& member(const boost::json::value&& v, std::string_view key) = delete;
/// `o[key]` as an array (an empty one when absent); refers into `v` like member().
const boost::json::array& arr(const boost::json::value& v, std::string_view key);
const boost::json::array& arr(const boost::json::value&& v, std::string_view key) = delete;
/// The error code of an API error body, "" when it is not one.
std::string error_code(const json_reply& r);

/// Percent-encodes a query value (cursors are base64: '+', '/' and '=' must be escaped).
std::string url_encode(std::string_view text);

/// Now as unix seconds / milliseconds (wall clock: providers' timestamps are wall time).
std::int64_t unix_now_s();
std::int64_t unix_now_ms();
/// Parses an RFC 3339 UTC string ("2026-11-22T10:00:00Z", fractions allowed) to unix ms;
/// -1 when malformed.
std::int64_t parse_rfc3339_ms(const std::string& text);

}  // namespace parley::testing
