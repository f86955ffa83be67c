#pragma once
/// parleyd's configuration: flags, environment variables and a TOML file, merged with
/// precedence flag > env > file > built-in default (API.md, "parleyd flags"). Only the
/// engine reads files, env vars or flags; lower layers get plain option structs.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "parley/result.hpp"

namespace parley::engine {

/// A listen address: host (IPv4, [IPv6] or name) and port (0: pick a free one).
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
  [[nodiscard]] std::string to_string() const;
};

/// Parses "HOST:PORT" or "[V6]:PORT"; invalid_argument naming what is wrong.
[[nodiscard]] result<listen_address> parse_listen_address(std::string_view text);

enum class durability_mode : std::uint8_t { sync, async };

/// Half this machine's CPU cores, at least one: the default number of HTTP I/O threads
/// and of actor scheduler threads.
[[nodiscard]] std::size_t half_the_cores() noexcept;

/// Everything parleyd can be told. Defaults are the embedded ones of API.md.
struct config {
  std::optional<std::string> config_file;
  /// `--rotate-master-key FILE`: re-wrap the tenant keys under the key in FILE and exit
  /// (a maintenance command; parleyd must not be running on the data directory).
  std::optional<std::string> rotate_master_key_to;
  std::string data_dir = "./parley-data";
  listen_address public_addr{"127.0.0.1", 8080};
  listen_address admin_addr{"127.0.0.1", 8081};
  durability_mode durability = durability_mode::sync;
  std::string log_level = "info";
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::size_t max_body_bytes = 1u << 20;
  std::uint32_t dedup_window_hours = 168;
  /// Half the CPU cores, at least one. On 2 cores one I/O thread answers more webhooks
  /// than two at less CPU each, and its tail at half load is shorter (BENCHMARKS.md,
  /// 2026-12-04).
  std::size_t io_threads = half_the_cores();
  /// Half the CPU cores, at least one: the conversation actors are a fifth of the work
  /// per webhook, and on 2 cores a second scheduler thread only adds wake-ups (W1 with one:
  /// +7% webhooks/s, -10% CPU per webhook; BENCHMARKS.md).
  std::size_t actor_threads = half_the_cores();
  std::size_t reader_threads = 2;
  std::uint64_t max_webhooks_in_flight = 16'384;  ///< accepted, unanswered webhooks; past it: 503
  std::uint32_t conversation_idle_seconds = 60;  ///< passivate conversations idle this long
  std::uint32_t retention_sweep_seconds = 600;   ///< retention sweep period (expired data gone within it)
  std::size_t cache_mib = 64;                    ///< RocksDB block cache (data, index and filter blocks)
  std::vector<std::string> stop_keywords = {"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOPALL"};
  std::vector<std::string> start_keywords = {"START", "SUBSCRIBE", "UNSTOP"};
  std::string whatsapp_api_base = "https://graph.facebook.com/v21.0";
  std::string telegram_api_base = "https://api.telegram.org";
  std::string postmark_api_base = "https://api.postmarkapp.com";
};

/// Reads an environment variable; injectable for tests.
using env_lookup = std::function<std::optional<std::string>(const char* name)>;

/// The process environment.
[[nodiscard]] env_lookup process_env();

/// What parsing the command line decided.
struct parse_outcome {
  enum class action : std::uint8_t { run, exit_ok } next = action::run;
  config cfg;
  std::string output;  ///< text for stdout when next == exit_ok (help, version)
};

/// Builds the configuration. Errors are one clear line (no trailing newline) for
/// stderr, with exit status 2; they never echo a secret.
[[nodiscard]] result<parse_outcome> parse_config(const std::vector<std::string>& args, const env_lookup& env);

}  // namespace parley::engine
