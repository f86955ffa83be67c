#pragma once
/// Realistic, correctly signed provider webhooks for load: one customer text message per
/// body, deterministic from (run, connection, number) so a redelivery is byte-identical.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::bench {

enum class provider : std::uint8_t { whatsapp, messenger, instagram, telegram, postmark };

[[nodiscard]] std::optional<provider> parse_provider(std::string_view name);
[[nodiscard]] std::string_view provider_name(provider p);

/// A channel to send to: its webhook path and credential. `secret` is the Meta app
/// secret, the Telegram secret token, or "user:password" for Postmark's Basic auth.
struct channel_target {
  provider kind = provider::whatsapp;
  std::string path;
  std::string secret;
};

/// The identity of one message in a run.
struct message_seed {
  std::uint64_t run = 0;         ///< distinguishes runs (ids never collide across runs)
  std::uint64_t connection = 0;
  std::uint64_t number = 0;      ///< per connection; the same number = the same message
  std::uint64_t contact = 0;     ///< which of the run's customers sends it
  std::int64_t base_time_s = 0;  ///< provider timestamps start here (0: a fixed past date, reproducible bytes)
};

struct signed_webhook {
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< the provider's auth header
  std::string provider_message_id;                            ///< what the receiver dedups on
};

/// Builds the body (~body_bytes) and its authentication for `target`.
[[nodiscard]] signed_webhook make_webhook(const channel_target& target, const message_seed& seed, std::size_t body_bytes);

/// The admin API body that creates a channel these webhooks verify against.
[[nodiscard]] std::string channel_json(provider p, const std::string& secret);

/// Lowercase hex HMAC-SHA256 (a keyed context per thread).
[[nodiscard]] std::string hmac_sha256_hex(const std::string& key, std::string_view data);

/// The account ids the bodies carry (channels must list them).
inline constexpr std::string_view whatsapp_phone_number_id = "100200300";
inline constexpr std::string_view messenger_page_id = "200300400";
inline constexpr std::string_view instagram_account_id = "17841400000000999";

}  // namespace parley::bench
